"""The API under test: ``create_app(settings)`` served through an httpx ``AsyncClient`` on an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.harness.dns import LoopbackDNS


@pytest.fixture(scope="session")
async def app(database: Settings, dns_server: LoopbackDNS) -> AsyncIterator[FastAPI]:
    """The API on the per-run database; its DNS goes to the loopback server, never the machine's resolver."""
    application = create_app(database.model_copy(update={"DNS_NAMESERVERS": dns_server.nameserver_setting}))
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
