"""Webhook test fixtures: a started loopback :class:`WebhookReceiver`, and a worker ``ctx`` (the real engine,
session maker, HTTP client, arq pool and queue keys of this run) with a :class:`ManualClock`, whose
``webhook:deliver`` queue starts empty for every test."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from arq.worker import func

from scaisend.clock import ManualClock
from scaisend.queues import WEBHOOK_DELIVER, create_arq_pool
from scaisend.settings import Settings
from scaisend.webhooks.tasks import deliver_webhook
from scaisend.workers.context import close_context, open_context
from scaisend.workers.job_logging import wrap_functions
from tests.harness.arq_worker import run_burst_worker
from tests.harness.webhook_receiver import WebhookReceiver


async def clear_queue(pool: ArqRedis, queue: str) -> None:
    for job_id in await pool.zrange(queue, 0, -1):
        await pool.delete(job_key_prefix + job_id.decode())
    await pool.delete(queue)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


@pytest.fixture(scope="session")
async def webhook_worker_ctx(database: Settings) -> AsyncIterator[dict[str, Any]]:
    pool = await create_arq_pool(database.REDIS_URL)
    ctx = await open_context(database, pool)
    yield ctx
    await clear_queue(pool, ctx["queues"].webhook_deliver)
    await pool.aclose()
    await close_context(ctx)


@pytest.fixture
async def ctx(webhook_worker_ctx: dict[str, Any]) -> dict[str, Any]:
    """This test's ctx: a fresh ManualClock at the current second, an empty ``webhook:deliver`` queue."""
    await clear_queue(webhook_worker_ctx["redis"], webhook_worker_ctx["queues"].webhook_deliver)
    now = datetime.now(UTC).replace(microsecond=0)
    return {**webhook_worker_ctx, "clock": ManualClock(now)}


async def run_worker(ctx: dict[str, Any]) -> int:
    """Run a burst-mode arq worker on ``webhook:deliver`` for the jobs due now (arq's burst mode would also wait for
    deferred ones), its job wrapped as the worker process wraps it (D56); returns the jobs it completed."""
    queue = ctx["queues"].webhook_deliver
    due = await ctx["redis"].zcount(queue, "-inf", time.time() * 1000 + 1000)  # arq rounds scores to the ms
    if not due:
        return 0
    functions = wrap_functions([func(deliver_webhook, name="deliver_webhook")], WEBHOOK_DELIVER)
    worker = await run_burst_worker(ctx["settings"].REDIS_URL, queue, functions, ctx=dict(ctx), max_burst_jobs=due)
    return worker.jobs_complete


async def queued_jobs(ctx: dict[str, Any]) -> dict[str, float]:
    """Job id → score (Unix ms) of every job on this run's ``webhook:deliver``."""
    entries = await ctx["redis"].zrange(ctx["queues"].webhook_deliver, 0, -1, withscores=True)
    return {job_id.decode(): score for job_id, score in entries}
