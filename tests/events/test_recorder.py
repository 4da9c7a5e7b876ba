"""The event recorder stores each event once and counts it into daily_stats with race-free upserts (D9)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from fastapi import FastAPI
from sqlalchemy import func, select

from scaisend.db.session import unit_of_work
from scaisend.events.recorder import record_event
from scaisend.events.types import DropReason, EventType
from scaisend.models import DailyStat, EmailEvent
from tests.factories.tenants import TenantKey

WHEN = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def stats_row(app: FastAPI, tenant_id: str, category: str = "") -> DailyStat | None:
    async with unit_of_work(app.state.resources.maker) as session:
        return await session.scalar(
            select(DailyStat).where(
                DailyStat.tenant_id == tenant_id, DailyStat.date == date(2026, 11, 27), DailyStat.category == category
            )
        )


class TestRecordEvent:
    async def test_stores_and_counts_per_category(self, app: FastAPI, tenant: TenantKey) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            event = await record_event(
                session,
                tenant_id=tenant.tenant_id,
                message_id="msg_1",
                event_type=EventType.PROCESSED,
                recipient_email="a@example.test",
                occurred_at=WHEN,
                categories=["welcome", "onboarding"],
            )
        assert event is not None
        assert event.event_id.startswith("evt_")
        total = await stats_row(app, tenant.tenant_id)
        welcome = await stats_row(app, tenant.tenant_id, "welcome")
        assert total is not None
        assert welcome is not None
        assert (total.requests, total.processed, total.delivered) == (1, 1, 0)
        assert (welcome.requests, welcome.processed) == (1, 1)

    async def test_dedupe_key_records_once(self, app: FastAPI, tenant: TenantKey) -> None:
        for _ in range(2):
            async with unit_of_work(app.state.resources.maker) as session:
                await record_event(
                    session,
                    tenant_id=tenant.tenant_id,
                    message_id="msg_2",
                    event_type=EventType.DELIVERED,
                    recipient_email="a@example.test",
                    occurred_at=datetime.now(UTC),
                    dedupe_key="attempt-1",
                )
        async with unit_of_work(app.state.resources.maker) as session:
            count = await session.scalar(
                select(func.count())
                .select_from(EmailEvent)
                .where(EmailEvent.message_id == "msg_2", EmailEvent.tenant_id == tenant.tenant_id)
            )
        assert count == 1

    async def test_drop_reason_counts_in_its_metric(self, app: FastAPI, tenant: TenantKey) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            await record_event(
                session,
                tenant_id=tenant.tenant_id,
                message_id="msg_3",
                event_type=EventType.DROPPED,
                recipient_email="a@example.test",
                occurred_at=WHEN,
                metadata={"reason": DropReason.SUPPRESSED_SPAM},
            )
        row = await stats_row(app, tenant.tenant_id)
        assert row is not None
        assert (row.requests, row.spam_report_drops, row.bounce_drops) == (1, 1, 0)

    async def test_concurrent_workers_do_not_lose_counts(self, app: FastAPI, tenant: TenantKey) -> None:
        async def one(i: int) -> None:
            async with unit_of_work(app.state.resources.maker) as session:
                await record_event(
                    session,
                    tenant_id=tenant.tenant_id,
                    message_id=f"msg_c{i}",
                    event_type=EventType.BOUNCE,
                    recipient_email="b@example.test",
                    occurred_at=WHEN,
                )

        await asyncio.gather(*(one(i) for i in range(25)))
        row = await stats_row(app, tenant.tenant_id)
        assert row is not None
        assert row.bounces == 25
