"""Enqueue-after-commit for webhook deliveries (style.md §8.7, spec §7.3).

The recorder's fan-out writes ``webhook_deliveries`` rows in the caller's transaction and notes their ids on the
session (``session.info``). Whoever owns the unit of work enqueues them only AFTER the commit, so no job can refer to a
row that was never committed:

- API requests: ``scaisend.api.deps.get_session`` uses :func:`unit_of_work_enqueuing`;
- worker jobs: ``async with job_unit_of_work(ctx) as session`` instead of ``unit_of_work(ctx["maker"])``.

A unit of work that does neither (or a crash between commit and enqueue) loses nothing: the every-minute sweep
(:func:`scaisend.webhooks.tasks.sweep_webhook_deliveries`) enqueues every pending delivery that is due. Job ids are
``deliver_webhook:<delivery id>:<attempt>``, so the sweep and the edges never queue the same attempt twice.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Final

from arq.connections import ArqRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext
from scaisend.logs import job_fields
from scaisend.queues import Queues, arq_view

logger = logging.getLogger(__name__)

JOB_NAME: Final = "deliver_webhook"
_PENDING_KEY: Final = "scaisend.webhooks.pending_deliveries"


def job_id(delivery_id: str, attempt: int) -> str:
    """The arq job id of one attempt of one delivery."""
    return f"{JOB_NAME}:{delivery_id}:{attempt}"


def note_pending(session: AsyncSession, delivery_ids: Iterable[str]) -> None:
    """Remember deliveries written in this transaction, to enqueue once it commits."""
    session.info.setdefault(_PENDING_KEY, []).extend(delivery_ids)


def take_pending(session: AsyncSession) -> list[str]:
    pending: list[str] = session.info.pop(_PENDING_KEY, [])
    return pending


def as_arq(redis: Redis) -> ArqRedis:
    """An arq view of a plain Redis client (the API's) sharing its connection pool."""
    return arq_view(redis)


async def enqueue_attempt(
    redis: Redis, queues: Queues, delivery_id: str, attempt: int, *, defer_until: datetime | None = None
) -> bool:
    """Queue attempt ``attempt`` of a delivery on ``webhook:deliver``; False when that attempt is already queued."""
    job = await as_arq(redis).enqueue_job(
        JOB_NAME,
        delivery_id,
        _job_id=job_id(delivery_id, attempt),
        _queue_name=queues.webhook_deliver,
        _defer_until=defer_until,
        correlation=job_fields(),
    )
    return job is not None


async def enqueue_pending(session: AsyncSession, redis: Redis, queues: Queues) -> None:
    """Enqueue the first attempt of every delivery noted on ``session`` (call after its commit). A Redis failure
    is logged, not raised: the rows are committed and the sweep will queue them."""
    for delivery_id in take_pending(session):
        try:
            await enqueue_attempt(redis, queues, delivery_id, 1)
        except RedisError:
            logger.warning(
                "webhook delivery not enqueued; the sweep will", extra={"delivery_id": delivery_id}, exc_info=True
            )


@asynccontextmanager
async def unit_of_work_enqueuing(
    maker: async_sessionmaker[AsyncSession], redis: Redis, queues: Queues
) -> AsyncIterator[AsyncSession]:
    """:func:`scaisend.db.session.unit_of_work`, then enqueue the deliveries it wrote once it has committed."""
    async with unit_of_work(maker) as session:
        yield session
    await enqueue_pending(session, redis, queues)


def job_unit_of_work(ctx: JobContext) -> AbstractAsyncContextManager[AsyncSession]:
    """The worker-job edge: a unit of work on the job's ``ctx`` that enqueues its webhook deliveries after commit."""
    return unit_of_work_enqueuing(ctx["maker"], ctx["redis"], ctx["queues"])
