"""Fixtures over the app: tenants with keys for the endpoint tests."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.factories.tenants import TenantKey, make_tenant


@pytest.fixture
async def tenant(app: FastAPI) -> TenantKey:
    """A fresh tenant whose API key holds every scope."""
    return await make_tenant(app.state.resources.maker)


@pytest.fixture
async def other_tenant(app: FastAPI) -> TenantKey:
    return await make_tenant(app.state.resources.maker)
