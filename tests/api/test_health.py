"""/health and /ready (docs/observability.md, docs/deploy.md): ready follows the database, proven by cutting a real connection."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.engine import make_url

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.harness.tcp_proxy import TcpProxy


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


async def test_ready_when_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.timeout(60)
async def test_ready_is_503_while_the_database_is_unreachable(database: Settings) -> None:
    url = make_url(database.DATABASE_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 3306)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(database.model_copy(update={"DATABASE_URL": proxied}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await client.get("/ready")).status_code == 200
            await proxy.stop()
            down = await client.get("/ready")
            assert down.status_code == 503
            assert down.json()["status"] == "not ready"
            assert (await client.get("/health")).status_code == 200
            await proxy.start()
            assert (await client.get("/ready")).status_code == 200
    finally:
        await proxy.stop()
        await app.state.resources.aclose()
