"""The per-process configuration cache (D82) on the API's accept path: a change committed by this process is seen
on the next request; a change made elsewhere (another process, plain SQL) once the cache's second has passed; a
cached key costs no statement."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from scaisend.auth.api_keys import KEY_GRANTS
from scaisend.db.config_cache import CONFIG_CACHE_SECONDS, generation
from scaisend.db.session import unit_of_work
from scaisend.models import ApiKey, Message
from scaisend.settings import Settings
from tests.factories.tenants import TenantKey, make_key
from tests.harness.database import connect


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(KEY_GRANTS, "monotonic", fake)
    return fake


async def test_revocation_elsewhere_takes_effect_once_the_entry_expires(
    client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI, database: Settings, clock: FakeMonotonic
) -> None:
    victim = await make_key(app.state.resources.maker, tenant.tenant_id, ["stats.read"])
    assert (await client.get("/v3/scopes", headers=victim.headers)).status_code == 200
    # another process revokes: plain SQL, no commit of this process to drop the entry
    with connect(database, to_database=True) as conn, conn.cursor() as cur:
        cur.execute("UPDATE api_keys SET revoked_at = UTC_TIMESTAMP() WHERE id = %s", (victim.key_id,))
    clock.now += CONFIG_CACHE_SECONDS
    response = await client.get("/v3/scopes", headers=victim.headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}


async def test_suspension_elsewhere_takes_effect_once_the_entry_expires(
    client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI, database: Settings, clock: FakeMonotonic
) -> None:
    victim = await make_key(app.state.resources.maker, tenant.tenant_id, ["stats.read"])
    assert (await client.get("/v3/scopes", headers=victim.headers)).status_code == 200
    with connect(database, to_database=True) as conn, conn.cursor() as cur:
        cur.execute("UPDATE tenants SET suspended = 1 WHERE id = %s", (tenant.tenant_id,))
    try:
        clock.now += CONFIG_CACHE_SECONDS
        assert (await client.get("/v3/scopes", headers=victim.headers)).status_code == 403
    finally:
        with connect(database, to_database=True) as conn, conn.cursor() as cur:
            cur.execute("UPDATE tenants SET suspended = 0 WHERE id = %s", (tenant.tenant_id,))


async def test_a_cached_key_costs_no_statement(
    client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI, clock: FakeMonotonic
) -> None:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.resources.engine.sync_engine
    assert (await client.get("/v3/scopes", headers=tenant.headers)).status_code == 200
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert (await client.get("/v3/scopes", headers=tenant.headers)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert not [s for s in statements if "api_keys" in s or "tenants" in s]


async def test_a_write_to_configuration_drops_every_entry(app: FastAPI, tenant: TenantKey) -> None:
    maker = app.state.resources.maker
    before = generation()
    async with unit_of_work(maker) as session:
        await session.execute(update(ApiKey).where(ApiKey.id == tenant.key_id).values(name="renamed"))
        assert generation() > before  # the writing transaction reads its own change
        written = generation()
    assert generation() > written  # and every other session the committed one
    async with maker() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == tenant.key_id).values(name="again"))
        written = generation()
        await session.rollback()
    assert generation() > written
    unrelated = generation()
    async with unit_of_work(maker) as session:  # not configuration
        await session.execute(update(Message).where(Message.id == "msg_none").values(subject="x"))
    assert generation() == unrelated
