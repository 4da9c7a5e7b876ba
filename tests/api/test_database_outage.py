"""MariaDB restarted or unreachable (issue 14 item 4, D60): the API answers 503 in the route's documented error shape
with ``Retry-After``, quickly, while it cannot commit; ``/ready`` is false; once the database is back the same request
is accepted. The database is taken away for real: the app reaches MariaDB through a loopback proxy that is cut."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import DATABASE_UNAVAILABLE, create_app
from scaisend.settings import Settings
from tests.factories.messages import make_sender_domain, message_row, send_body
from tests.factories.tenants import TenantKey, make_tenant
from tests.harness.tcp_proxy import TcpProxy, proxied_database


@pytest.fixture
async def proxy(database: Settings) -> AsyncIterator[TcpProxy]:
    async with proxied_database(database) as running:
        yield running


@pytest.fixture
async def outage_app(database: Settings, proxy: TcpProxy) -> AsyncIterator[FastAPI]:
    settings = database.model_copy(
        update={"DATABASE_URL": proxy.database_url, "DATABASE_CONNECT_TIMEOUT": 2, "DATABASE_POOL_TIMEOUT": 2}
    )
    app = create_app(settings)
    yield app
    await app.state.resources.aclose()


@pytest.fixture
async def owner(outage_app: FastAPI) -> TenantKey:
    tenant = await make_tenant(outage_app.state.resources.maker)
    await make_sender_domain(outage_app.state.resources.maker, tenant.tenant_id)
    return tenant


@pytest.fixture
async def api(outage_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outage_app), base_url="http://t") as client:
        yield client


@pytest.mark.timeout(90)
class TestDatabaseCut:
    async def test_send_is_503_in_sendgrid_shape_then_202_when_back(
        self, outage_app: FastAPI, api: httpx.AsyncClient, proxy: TcpProxy, owner: TenantKey
    ) -> None:
        assert (
            await api.post("/v3/mail/send", headers=owner.headers, json=send_body("a@example.org"))
        ).status_code == 202
        await proxy.stop()
        started = time.monotonic()
        down = await api.post("/v3/mail/send", headers=owner.headers, json=send_body("b@example.org"))
        assert time.monotonic() - started < 10
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "5"
        assert down.headers["X-Request-ID"]
        assert down.json() == {"errors": [{"message": DATABASE_UNAVAILABLE, "field": None, "help": None}]}

        await proxy.start()
        again = await api.post("/v3/mail/send", headers=owner.headers, json=send_body("b@example.org"))
        assert again.status_code == 202
        row = await message_row(outage_app.state.resources.maker, again.json()["message_id"])
        assert (row.status, row.to_emails) == ("queued", ["b@example.org"])

    async def test_other_routes_are_503_with_detail_and_ready_is_false(
        self, api: httpx.AsyncClient, proxy: TcpProxy, owner: TenantKey
    ) -> None:
        assert (await api.get("/v3/messages", headers=owner.headers)).status_code == 200
        await proxy.stop()
        listing = await api.get("/v3/messages", headers=owner.headers)
        assert listing.status_code == 503
        assert listing.json() == {"detail": DATABASE_UNAVAILABLE}
        ready = await api.get("/ready")
        assert (ready.status_code, ready.json()["status"]) == (503, "not ready")
        assert (await api.get("/health")).status_code == 200

        await proxy.start()
        assert (await api.get("/ready")).status_code == 200
        assert (await api.get("/v3/messages", headers=owner.headers)).status_code == 200
