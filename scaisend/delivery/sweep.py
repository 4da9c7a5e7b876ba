"""The delivery sweep (docs/delivery.md, "Sent versus recorded"): the SMTP service's stage pass
(:mod:`scaisend.workers.queue_rebuild`: at start, after Redis lost its data and every 20 s) queues the
``deliver_message`` job again for messages whose job went missing.

| the message is …                                                              | queued again           |
|--------------------------------------------------------------------------------|------------------------|
| ``rendered`` with a retry due more than :data:`LATE_AFTER` ago                 | attempt ``attempts+1`` |
| ``rendered`` (first time, or again for a user's retry), unchanged since then   | attempt ``attempts+1`` |
| ``sending``, unchanged for longer than a job may run (:data:`STUCK_AFTER`)     | attempt ``attempts``   |

Job ids carry the attempt, so a job that is in fact still queued or running is not duplicated (arq refuses the id),
and a re-run ``sending`` attempt takes what it already sent from the hand-off journal. The query spans every tenant
(an operator task, each status through ``ix_messages_tenant_status``) and reads at most :data:`LIMIT` messages,
oldest first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext
from scaisend.models import Message, MessageStatus, Tenant
from scaisend.queues import DELIVER_MESSAGE_TIMEOUT, deliver_message_job, enqueue_jobs

logger = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=10)
STUCK_AFTER = timedelta(seconds=DELIVER_MESSAGE_TIMEOUT) + timedelta(minutes=5)
LIMIT = 1000


async def _in_status(
    session: AsyncSession, status: str, condition: ColumnElement[bool], limit: int
) -> Sequence[tuple[str, int, datetime]]:
    """``(id, attempts, updated_at)`` of every tenant's messages in ``status`` meeting ``condition``, oldest first.
    Joined from ``tenants`` with the status as a constant, so each tenant's rows are found through
    ``ix_messages_tenant_status`` (tenant, status) instead of reading every message the tenant ever sent."""
    return (
        await session.execute(
            select(Message.id, Message.attempts, Message.updated_at)
            .join(Tenant, (Message.tenant_id == Tenant.id) & (Message.status == status))
            .where(condition)
            .order_by(Message.updated_at)
            .limit(limit)
        )
    ).all()


async def stale_deliveries(
    session: AsyncSession,
    now: datetime,
    limit: int = LIMIT,
    *,
    late_after: timedelta = LATE_AFTER,
    stuck_after: timedelta = STUCK_AFTER,
) -> list[tuple[str, int]]:
    """``(message_id, attempt to run)`` for every message in the module's table, oldest first."""
    late = await _in_status(
        session,
        MessageStatus.RENDERED.value,
        func.coalesce(Message.next_attempt_at, Message.updated_at) < now - late_after,
        limit,
    )
    stuck = await _in_status(session, MessageStatus.SENDING.value, Message.updated_at < now - stuck_after, limit)
    found = sorted(
        [(updated, message_id, attempts + 1) for message_id, attempts, updated in late]
        + [(updated, message_id, attempts) for message_id, attempts, updated in stuck]
    )
    return [(message_id, attempt) for _updated, message_id, attempt in found[:limit]]


async def requeue_stale_deliveries(
    ctx: JobContext, *, late_after: timedelta = LATE_AFTER, stuck_after: timedelta = STUCK_AFTER
) -> int:
    """Queue the missing jobs (with both ages 0: everything of the stage; the reconciler passes 30 s); how many were
    new."""
    async with unit_of_work(ctx["maker"]) as session:
        stale = await stale_deliveries(session, ctx["clock"].now(), late_after=late_after, stuck_after=stuck_after)
    jobs = [deliver_message_job(message_id, attempt) for message_id, attempt in stale]
    added = await enqueue_jobs(ctx["redis"], ctx["queues"], jobs) if jobs else 0
    if added:
        logger.warning("requeued stale deliveries", extra={"requeued": added, "checked": len(stale)})
    return added
