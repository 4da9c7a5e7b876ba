"""Fixtures for the sender-domain tests: settings and an app whose resolver asks the loopback DNS server, and a
helper that publishes a domain's records there. (The harness fixtures come from ``tests/conftest.py``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.harness.dns import LoopbackDNS


@pytest.fixture(scope="session")
def dns_settings(database: Settings, dns_server: LoopbackDNS) -> Settings:
    """The per-run database settings with ``DNS_NAMESERVERS`` pointing at the loopback DNS server."""
    return database.model_copy(update={"DNS_NAMESERVERS": dns_server.nameserver_setting})


@pytest.fixture(scope="module")
async def domains_app(dns_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(dns_settings)
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def domains_client(domains_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=domains_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def publish(dns: LoopbackDNS, domain: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
    """Publish every record of a domain's ``dns_records`` (as the API returns it) except the purposes in ``skip``."""
    for record in domain["dns_records"]:
        if record["purpose"] not in skip:
            assert record["type"] == "TXT"
            dns.add_txt(record["host"], record["value"])
