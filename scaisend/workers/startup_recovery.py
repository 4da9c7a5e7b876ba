"""The start-up recovery pass of the worker and the SMTP service (issue 14 item 1, D64, docs/reliability.md).

A process that starts (after a crash, a deploy, a Redis that lost its data) queues again, at once, every message of
its stage whose job may be gone, instead of leaving them to the periodic sweeps (5 minutes for ``queued``, 10 for
``rendered``, 20 for ``sending``):

- worker: every ``queued`` message gets its ``process_email`` job (scheduled ones deferred to ``send_at``);
- SMTP service: every ``rendered`` message whose attempt is due and every ``sending`` one gets its
  ``deliver_message`` job for the attempt it is at.

Job ids are deterministic (D21), so arq refuses every job that still exists (waiting, deferred or running): a pass
over a healthy system adds nothing, and running it on every start of every replica is harmless. It reads at most
1,000 messages per status, oldest first; the sweeps take the rest. When the database or Redis is unavailable at start
the pass is skipped with a warning (the sweeps catch up)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from scaisend.db.session import unit_of_work
from scaisend.delivery.sweep import requeue_stale_deliveries
from scaisend.job_context import JobContext
from scaisend.messages.service import requeue_stale_queued

logger = logging.getLogger(__name__)


async def _nothing_to_stop() -> None:
    return None


async def _run(stage: str, recover: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[None]]:
    try:
        added = await recover()
    except (SQLAlchemyError, RedisError, OSError) as exc:
        logger.warning(
            "start-up recovery skipped; the sweeps will catch up", extra={"stage": stage, "error": repr(exc)}
        )
    else:
        logger.info("start-up recovery", extra={"stage": stage, "requeued": added})
    return _nothing_to_stop


async def requeue_compose_at_start(ctx: JobContext) -> Callable[[], Awaitable[None]]:
    """The worker's pass: a ``process_email`` job for every ``queued`` message that has none."""

    async def recover() -> int:
        async with unit_of_work(ctx["maker"]) as session:
            return await requeue_stale_queued(session, ctx["redis"], ctx["clock"].now(), queues=ctx["queues"])

    return await _run("compose", recover)


async def requeue_deliveries_at_start(ctx: JobContext) -> Callable[[], Awaitable[None]]:
    """The SMTP service's pass: a ``deliver_message`` job for every due ``rendered`` and every ``sending`` message
    that has none."""
    return await _run(
        "delivery", lambda: requeue_stale_deliveries(ctx, late_after=timedelta(0), stuck_after=timedelta(0))
    )
