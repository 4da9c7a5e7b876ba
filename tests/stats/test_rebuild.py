"""``POST /v3/stats/rebuild`` and :mod:`scaisend.stats.rebuild` (D9): a rebuild from ``email_events`` gives exactly
what live counting gave, repairs lost or wrong counters, stays inside its tenant and range, and pages events."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.compose.recipients import LEGACY_PROCESSED_DEDUPE_KEY, processed_dedupe_key
from scaisend.db.session import unit_of_work
from scaisend.events.types import EventType
from scaisend.models import STAT_METRICS, DailyStat, Message
from scaisend.stats.counters import increment
from scaisend.stats.rebuild import rebuild_range, recount_day
from scaisend.stats.service import DateRange
from tests.factories.stats import make_message, record, wipe_daily_stats
from tests.factories.tenants import TenantKey, make_key
from tests.stats.scenario import (
    BOTH_DAYS_ALL,
    DAY1,
    DAY1_ALL,
    DAY1_WELCOME,
    DAY2,
    DAY2_ALL,
    ZERO,
    metrics,
    record_noise,
    record_scenario,
)

RANGE = {"start_date": "2026-04-29", "end_date": "2026-05-04"}
StatRows = dict[tuple[date, str], dict[str, int]]


async def _rows(app: FastAPI, tenant_id: str) -> StatRows:
    async with unit_of_work(app.state.resources.maker) as session:
        rows = await session.scalars(select(DailyStat).where(DailyStat.tenant_id == tenant_id))
        return {(r.date, r.category): {m: getattr(r, m) for m in STAT_METRICS} for r in rows}


async def _rebuild(client: httpx.AsyncClient, owner: TenantKey, **body: str) -> httpx.Response:
    return await client.post("/v3/stats/rebuild", headers=owner.headers, json=body)


async def _stats(client: httpx.AsyncClient, owner: TenantKey, path: str = "/v3/stats", **params: Any) -> Any:
    response = await client.get(path, headers=owner.headers, params={**RANGE, **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def scenario_tenant(app: FastAPI, tenant: TenantKey, other_tenant: TenantKey) -> TenantKey:
    await record_scenario(app, tenant.tenant_id)
    await record_noise(app, other_tenant.tenant_id)
    return tenant


class TestRebuildEndpoint:
    async def test_rebuild_gives_what_live_counting_gave(
        self, app: FastAPI, client: httpx.AsyncClient, scenario_tenant: TenantKey
    ) -> None:
        live_rows = await _rows(app, scenario_tenant.tenant_id)
        live_stats = await _stats(client, scenario_tenant)
        live_categories = await _stats(client, scenario_tenant, "/v3/stats/categories")
        response = await _rebuild(client, scenario_tenant, **RANGE)
        assert response.status_code == 200
        assert response.json() == {"rebuilt_days": 6}
        assert await _rows(app, scenario_tenant.tenant_id) == live_rows
        assert await _stats(client, scenario_tenant) == live_stats
        assert await _stats(client, scenario_tenant, "/v3/stats/categories") == live_categories

    async def test_lost_counters_come_back(
        self, app: FastAPI, client: httpx.AsyncClient, scenario_tenant: TenantKey
    ) -> None:
        live_categories = await _stats(client, scenario_tenant, "/v3/stats/categories")
        await wipe_daily_stats(app.state.resources.maker, scenario_tenant.tenant_id)
        assert (await _stats(client, scenario_tenant, "/v3/stats/summary"))["metrics"] == ZERO
        assert (await _rebuild(client, scenario_tenant, **RANGE)).status_code == 200
        assert (await _stats(client, scenario_tenant, "/v3/stats/summary"))["metrics"] == BOTH_DAYS_ALL
        assert await _stats(client, scenario_tenant, "/v3/stats/categories") == live_categories

    async def test_wrong_counters_are_replaced(
        self, app: FastAPI, client: httpx.AsyncClient, scenario_tenant: TenantKey
    ) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            await increment(
                session,
                tenant_id=scenario_tenant.tenant_id,
                day=DAY1,
                categories=["welcome", "ghost"],
                amounts={"delivered": 1000},
            )
        assert (
            await _rebuild(client, scenario_tenant, start_date="2026-04-30", end_date="2026-04-30")
        ).status_code == 200
        day1 = (await _stats(client, scenario_tenant, start_date="2026-04-30", end_date="2026-04-30"))[0]
        assert day1["stats"][0]["metrics"] == DAY1_ALL
        categories = await _stats(
            client, scenario_tenant, "/v3/stats/categories", start_date="2026-04-30", end_date="2026-04-30"
        )
        assert {s["name"]: s["metrics"] for s in categories[0]["stats"]}["welcome"] == DAY1_WELCOME
        assert "ghost" not in {s["name"] for s in categories[0]["stats"]}

    async def test_only_the_range_is_rebuilt(
        self, app: FastAPI, client: httpx.AsyncClient, scenario_tenant: TenantKey
    ) -> None:
        await wipe_daily_stats(app.state.resources.maker, scenario_tenant.tenant_id)
        response = await _rebuild(client, scenario_tenant, start_date="2026-04-30", end_date="2026-05-02")
        assert response.json() == {"rebuilt_days": 3}
        by_date = {e["date"]: e["stats"][0]["metrics"] for e in await _stats(client, scenario_tenant)}
        assert (by_date["2026-04-30"], by_date["2026-05-03"]) == (DAY1_ALL, ZERO)

    async def test_other_tenants_are_untouched(
        self, app: FastAPI, client: httpx.AsyncClient, scenario_tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        before = await _rows(app, other_tenant.tenant_id)
        await wipe_daily_stats(app.state.resources.maker, scenario_tenant.tenant_id)
        assert (await _rebuild(client, scenario_tenant, **RANGE)).status_code == 200
        assert await _rows(app, other_tenant.tenant_id) == before
        summary = await _stats(client, scenario_tenant, "/v3/stats/summary")
        assert summary["metrics"] == BOTH_DAYS_ALL  # the other tenant's events were not counted here

    async def test_needs_stats_export(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        reader = await make_key(app.state.resources.maker, tenant.tenant_id, ["stats.read"])
        response = await _rebuild(client, reader, **RANGE)
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: stats.export"}

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"start_date": "2026-02-30"}, "Invalid start_date: '2026-02-30' (expected YYYY-MM-DD)"),
            ({"start_date": "2026-05-02", "end_date": "2026-05-01"}, "start_date must not be after end_date"),
            ({"start_date": "2025-01-01", "end_date": "2026-01-02"}, "The date range may cover at most 366 days"),
        ],
    )
    async def test_bad_dates_are_400(
        self, client: httpx.AsyncClient, tenant: TenantKey, body: dict[str, str], detail: str
    ) -> None:
        response = await _rebuild(client, tenant, **body)
        assert response.status_code == 400
        assert response.json() == {"detail": detail}


class TestRecountDay:
    async def test_small_batches_page_through_events_with_equal_times(self, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        message = await make_message(maker, tenant.tenant_id, ["digest"])
        same_time = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        for i in range(7):
            await record(maker, message, EventType.OPEN, same_time, unique=i == 0)
        live = await _rows(app, tenant.tenant_id)
        async with unit_of_work(maker) as session:
            written = await recount_day(session, tenant.tenant_id, date(2026, 6, 1), batch_size=2)
        assert written[""] == {"opens": 7, "unique_opens": 1}
        assert await _rows(app, tenant.tenant_id) == live
        assert live[(date(2026, 6, 1), "digest")] == metrics(opens=7, unique_opens=1)

    async def test_events_of_a_deleted_message_count_in_the_total_only(self, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        message = await make_message(maker, tenant.tenant_id, ["gone"])
        await record(maker, message, EventType.DELIVERED, datetime(2026, 6, 2, 8, 0, tzinfo=UTC))
        async with unit_of_work(maker) as session:
            await session.delete(await session.get(Message, message.id))
            await recount_day(session, tenant.tenant_id, date(2026, 6, 2))
        rows = await _rows(app, tenant.tenant_id)
        assert rows == {(date(2026, 6, 2), ""): metrics(delivered=1)}

    async def test_a_day_without_events_ends_with_no_rows(self, app: FastAPI, scenario_tenant: TenantKey) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            assert await recount_day(session, scenario_tenant.tenant_id, DAY2) != {}
            assert await recount_day(session, scenario_tenant.tenant_id, date(2026, 5, 1)) == {}
        rows = await _rows(app, scenario_tenant.tenant_id)
        assert {day for day, _ in rows} == {DAY1, DAY2}
        assert rows[(DAY2, "")] == DAY2_ALL


class TestLegacyProcessed:
    """Days recorded before D5 was revised: one ``processed`` per message (dedupe key ``processed``), for its first
    recipient. A rebuild counts such an event once per processed recipient of its message."""

    async def _legacy(self, maker: Any, tenant_id: str, day: datetime, *, to: int, cc: int, bcc: int) -> Message:
        message = await make_message(maker, tenant_id, ["old"])
        person = {
            "to": [{"email": f"to{i}@example.test"} for i in range(to)],
            "cc": [{"email": f"cc{i}@example.test"} for i in range(cc)],
            "bcc": [{"email": f"bcc{i}@example.test"} for i in range(bcc)],
        }
        async with unit_of_work(maker) as session:
            row = await session.get(Message, message.id)
            assert row is not None
            row.personalization = person
        dropped = "dropped:cc0@example.test"
        await record(
            maker,
            message,
            EventType.DROPPED,
            day,
            recipient="CC0@example.test",
            dedupe_key=dropped,
            reason="suppressed_bounce",
        )
        await record(
            maker,
            message,
            EventType.PROCESSED,
            day,
            recipient="to0@example.test",
            dedupe_key=LEGACY_PROCESSED_DEDUPE_KEY,
        )
        return message

    async def test_a_legacy_processed_counts_once_per_processed_recipient(
        self, app: FastAPI, tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        day = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        await self._legacy(maker, tenant.tenant_id, day, to=2, cc=2, bcc=1)  # 5 recipients, cc0 dropped
        for _ in range(4):
            await record(maker, (await make_message(maker, tenant.tenant_id)), EventType.DELIVERED, day)
        live = await _rows(app, tenant.tenant_id)
        assert live[(day.date(), "")]["processed"] == 1  # what the old code counted

        await rebuild_range(maker, tenant.tenant_id, DateRange(day.date(), day.date()))

        rows = await _rows(app, tenant.tenant_id)
        expected = metrics(requests=5, processed=4, bounce_drops=1)
        assert rows[(day.date(), "old")] == expected
        assert rows[(day.date(), "")] == {**expected, "delivered": 4}

    async def test_a_legacy_message_retried_after_the_upgrade_is_not_counted_twice(
        self, app: FastAPI, tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        day = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
        message = await self._legacy(maker, tenant.tenant_id, day, to=3, cc=0, bcc=0)
        later = day + timedelta(days=1)
        for email in ("to0@example.test", "to2@example.test"):
            await record(
                maker, message, EventType.PROCESSED, later, recipient=email, dedupe_key=processed_dedupe_key(email)
            )

        await rebuild_range(maker, tenant.tenant_id, DateRange(day.date(), later.date()))

        rows = await _rows(app, tenant.tenant_id)
        assert (rows[(day.date(), "")]["processed"], rows[(later.date(), "")]["processed"]) == (1, 2)


class TestWhileSending:
    async def test_rebuilds_and_live_counting_together_lose_and_double_nothing(
        self, app: FastAPI, tenant: TenantKey
    ) -> None:
        """Two rebuilds of a day run while new events of that day are recorded; neither deadlocks, and the counts
        end equal to the events."""
        maker = app.state.resources.maker
        day = date(2026, 7, 1)
        start = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
        message = await make_message(maker, tenant.tenant_id, ["a", "b"])
        for i in range(60):
            await record(maker, message, EventType.OPEN, start + timedelta(seconds=i))

        async def live() -> None:
            for i in range(30):
                await record(maker, message, EventType.OPEN, start + timedelta(hours=2, seconds=i))
                await asyncio.sleep(0.002)

        span = DateRange(day, day)
        await asyncio.gather(
            rebuild_range(maker, tenant.tenant_id, span, batch_size=2),
            live(),
            rebuild_range(maker, tenant.tenant_id, span, batch_size=3),
        )
        rows = await _rows(app, tenant.tenant_id)
        assert rows == {(day, category): metrics(opens=90) for category in ("", "a", "b")}
