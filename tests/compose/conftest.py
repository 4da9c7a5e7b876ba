"""A worker context for running ``process_email`` in the test process: the real engine, session maker, Redis pool
and queue keys of this run (``open_context`` + an arq pool). After each test this run's three queues and their job
keys are removed, so later tests see empty queues."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.constants import job_key_prefix

from scaisend.queues import Queues, create_arq_pool
from scaisend.settings import Settings
from scaisend.workers.context import close_context, open_context


async def empty_queues(pool: ArqRedis, queues: Queues) -> None:
    for queue in (queues.smtp_deliver, queues.email_process, queues.webhook_deliver):
        for job_id in await pool.zrange(queue, 0, -1):
            await pool.delete(job_key_prefix + job_id.decode())
        await pool.delete(queue)


@pytest.fixture(scope="session")
async def compose_session_ctx(database: Settings) -> AsyncIterator[dict[str, Any]]:
    pool = await create_arq_pool(database.REDIS_URL)
    ctx = await open_context(database, pool)
    yield ctx
    await pool.aclose()
    await close_context(ctx)


@pytest.fixture
async def compose_ctx(compose_session_ctx: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    yield compose_session_ctx
    await empty_queues(compose_session_ctx["redis"], compose_session_ctx["queues"])
