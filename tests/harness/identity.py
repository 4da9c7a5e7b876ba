"""The API with JWTs switched on (``SCAIKEY_JWKS_URL`` at the loopback JWKS issuer), for the identity admin routes:
``jwt_app`` (one per run) and ``jwt_client``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.harness.dns import LoopbackDNS
from tests.harness.jwks import JwksIssuer


@pytest.fixture(scope="session")
async def jwt_app(database: Settings, jwks_issuer: JwksIssuer, dns_server: LoopbackDNS) -> AsyncIterator[FastAPI]:
    settings = database.model_copy(
        update={"SCAIKEY_JWKS_URL": jwks_issuer.url, "DNS_NAMESERVERS": dns_server.nameserver_setting}
    )
    application = create_app(settings)
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def jwt_client(jwt_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=jwt_app), base_url="http://testserver") as c:
        yield c
