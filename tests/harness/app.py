"""The API under test: ``create_app(settings)`` served through an httpx ``AsyncClient`` on an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.settings import Settings


@pytest.fixture(scope="session")
async def app(database: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(database)
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
