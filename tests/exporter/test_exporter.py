"""The exporter against real MariaDB and Redis: today's per-tenant stats only, queue depths by key type, webhook
outcomes in the window, and a broken or hung database costing only its own series (``scaisend_exporter_up 0``)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from exporter.main import create_exporter_app
from scaisend import metrics
from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import WebhookDelivery
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.stats.counters import increment
from tests.factories.tenants import TenantKey
from tests.harness.tcp_proxy import TcpProxy

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(settings: Settings) -> str:
    app = create_exporter_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://exporter") as client,
    ):
        response = await client.get("/metrics")
    assert response.status_code == 200
    return response.text


def tenant_value(samples: Samples, stat: str, tenant_id: str) -> float | None:
    return samples.get((metrics.tenant_stat_metric(stat), (("tenant", tenant_id),)))


@pytest.fixture
async def queues(own_prefix: Settings, redis: Redis) -> AsyncIterator[Queues]:
    q = Queues(own_prefix.REDIS_QUEUE_PREFIX)
    yield q
    await redis.delete(*q.all().values())


class TestDailyStats:
    async def test_today_per_tenant_and_nothing_from_other_days(
        self, app: FastAPI, database: Settings, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        today = datetime.now(UTC).date()
        async with unit_of_work(app.state.resources.maker) as session:
            await increment(
                session,
                tenant_id=tenant.tenant_id,
                day=today,
                categories=["promo"],
                amounts={"requests": 200, "bounces": 7, "spam_reports": 1},
            )
            await increment(
                session,
                tenant_id=tenant.tenant_id,
                day=today - timedelta(days=1),
                categories=[],
                amounts={"requests": 999},
            )
            await increment(
                session, tenant_id=other_tenant.tenant_id, day=today, categories=[], amounts={"requests": 10}
            )
        samples = parse(await scrape(database))
        assert tenant_value(samples, "requests", tenant.tenant_id) == 200
        assert tenant_value(samples, "bounces", tenant.tenant_id) == 7
        assert tenant_value(samples, "delivered", tenant.tenant_id) == 0
        assert tenant_value(samples, "requests", other_tenant.tenant_id) == 10
        updated = samples[(metrics.TENANT_STATS_LAST_UPDATE, (("tenant", tenant.tenant_id),))]
        assert abs(updated - datetime.now(UTC).timestamp()) < 120
        assert samples[(metrics.EXPORTER_UP, ())] == 1


class TestQueues:
    async def test_depth_by_key_type_and_missing_is_zero(
        self, own_prefix: Settings, redis: Redis, queues: Queues
    ) -> None:
        await redis.zadd(queues.email_process, {f"job{i}": i for i in range(5)})
        await redis.rpush(queues.webhook_deliver, "a", "b")
        samples = parse(await scrape(own_prefix))
        depth = {q: samples[(metrics.QUEUE_DEPTH, (("queue", q),))] for q in queues.all()}
        assert depth == {"email:process": 5, "smtp:deliver": 0, "webhook:deliver": 2}


class TestWebhookDeliveries:
    async def test_counts_finished_deliveries_in_the_window(
        self, app: FastAPI, database: Settings, tenant: TenantKey
    ) -> None:
        now = datetime.now(UTC)
        before = parse(await scrape(database))
        async with unit_of_work(app.state.resources.maker) as session:
            for status, updated in (
                ("succeeded", now),
                ("succeeded", now),
                ("failed", now),
                ("pending", now),
                ("succeeded", now - timedelta(hours=2)),
            ):
                session.add(
                    WebhookDelivery(
                        id=new_id("whd"),
                        tenant_id=tenant.tenant_id,
                        payload={},
                        status=status,
                        created_at=updated,
                        updated_at=updated,
                    )
                )
        after = parse(await scrape(database))

        def delta(outcome: str) -> float:
            key = (metrics.WEBHOOK_DELIVERIES_RECENT, (("outcome", outcome),))
            return after[key] - before[key]

        assert (delta("success"), delta("failure")) == (2, 1)


class TestDatabaseTrouble:
    @pytest.mark.timeout(60)
    async def test_database_down_or_hung_costs_only_its_series(
        self, own_prefix: Settings, tenant: TenantKey, queues: Queues, redis: Redis
    ) -> None:
        await redis.zadd(queues.smtp_deliver, {"j": 1})
        database = own_prefix
        url = make_url(database.DATABASE_URL)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 3306)
        await proxy.start()
        proxied = database.model_copy(
            update={
                "DATABASE_URL": url.set(port=proxy.port).render_as_string(hide_password=False),
                "DATABASE_STATEMENT_TIMEOUT_MS": 1500,
            }
        )
        try:
            assert parse(await scrape(proxied))[(metrics.EXPORTER_UP, ())] == 1
            proxy.pause()  # hung: connections stay open, nothing answers
            hung = parse(await asyncio.wait_for(scrape(proxied), timeout=20))
            proxy.resume()
            await proxy.stop()  # down: connections refused
            down = parse(await asyncio.wait_for(scrape(proxied), timeout=20))
        finally:
            proxy.resume()
            await proxy.stop()
        for samples in (hung, down):
            assert samples[(metrics.EXPORTER_UP, ())] == 0
            assert samples[(metrics.EXPORTER_COLLECTOR_SUCCESS, (("collector", "daily_stats"),))] == 0
            assert samples[(metrics.EXPORTER_COLLECTOR_SUCCESS, (("collector", "redis_queues"),))] == 1
            assert samples[(metrics.QUEUE_DEPTH, (("queue", "smtp:deliver"),))] == 1
            assert not any(name.startswith("scaisend_tenant_") for name, _ in samples)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing: `make test` installs prometheus")
async def test_promtool_check_metrics_is_silent(app: FastAPI, database: Settings, tenant: TenantKey) -> None:
    async with unit_of_work(app.state.resources.maker) as session:
        await increment(
            session, tenant_id=tenant.tenant_id, day=datetime.now(UTC).date(), categories=[], amounts={"requests": 1}
        )
    text = await scrape(database)
    result = await asyncio.to_thread(
        subprocess.run, ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip() == ""
