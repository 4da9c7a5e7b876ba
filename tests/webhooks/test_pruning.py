"""Retention of ``webhook_deliveries`` (the worker's daily prune): finished rows older than the retention go, in
batches; pending and queued rows (work still to do) and recent rows stay; 0 keeps everything. On a database of the
test's own, since the prune spans every tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scaisend.clock import ManualClock
from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import WebhookDelivery
from scaisend.webhooks.pruning import prune, prune_webhook_deliveries
from tests.factories.tenants import make_tenant
from tests.harness.database import OwnDatabase

NOW = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=31)
RECENT = NOW - timedelta(days=29)


async def add(db: OwnDatabase, status: str, updated_at: datetime) -> str:
    delivery_id = new_id("whd")
    tenant = await make_tenant(db.maker)
    async with unit_of_work(db.maker) as session:
        session.add(
            WebhookDelivery(
                id=delivery_id,
                tenant_id=tenant.tenant_id,
                payload={},
                status=status,
                attempts=1,
                created_at=updated_at,
                updated_at=updated_at,
            )
        )
    return delivery_id


async def remaining(db: OwnDatabase) -> set[str]:
    async with unit_of_work(db.maker) as session:
        return set(await session.scalars(select(WebhookDelivery.id)))


async def test_only_finished_rows_past_the_retention_go(own_database: OwnDatabase) -> None:
    gone = {await add(own_database, "succeeded", OLD), await add(own_database, "failed", OLD)}
    kept = {
        await add(own_database, "pending", OLD),
        await add(own_database, "queued", OLD),
        await add(own_database, "succeeded", RECENT),
        await add(own_database, "failed", RECENT),
    }
    assert await prune(own_database.maker, NOW - timedelta(days=30)) == 2
    assert await remaining(own_database) == kept
    assert not gone & await remaining(own_database)


async def test_deletes_in_batches_until_done(own_database: OwnDatabase) -> None:
    for _ in range(5):
        await add(own_database, "succeeded", OLD)
    assert await prune(own_database.maker, NOW - timedelta(days=30), limit=2) == 5
    assert await remaining(own_database) == set()


async def test_the_cron_follows_the_setting(own_database: OwnDatabase) -> None:
    old = await add(own_database, "succeeded", OLD)
    ctx = {
        "maker": own_database.maker,
        "clock": ManualClock(NOW),
        "settings": own_database.settings.model_copy(update={"WEBHOOK_DELIVERY_RETENTION_DAYS": 0}),
    }
    assert await prune_webhook_deliveries(ctx) == 0
    assert await remaining(own_database) == {old}
    ctx["settings"] = own_database.settings  # the default: 30 days
    assert own_database.settings.WEBHOOK_DELIVERY_RETENTION_DAYS == 30
    assert await prune_webhook_deliveries(ctx) == 1
    assert await remaining(own_database) == set()
