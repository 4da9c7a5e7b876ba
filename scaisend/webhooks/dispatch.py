"""Webhook deliveries handed to ``webhook:deliver`` (D22, D23, docs/webhooks.md), through the one after-commit hand-off
(:mod:`scaisend.db.handoff`).

The recorder's fan-out writes ``webhook_deliveries`` rows in the caller's transaction and hands their first attempt
off with :func:`hand_off_deliveries`; the unit of work's owner queues them once it has committed. A crash or a Redis
error in between loses nothing: the reconciler of the worker (:mod:`scaisend.workers.queue_rebuild`, every 20 s)
queues every pending delivery that is due. Job ids are ``deliver_webhook:<delivery id>:<attempt>``
(:func:`scaisend.queues.deliver_webhook_job_id`), so the reconciler and the hand-off never queue one attempt twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.db.handoff import hand_off
from scaisend.logs import job_fields
from scaisend.queues import Queues, deliver_webhook_job, enqueue_jobs


def hand_off_deliveries(session: AsyncSession, delivery_ids: Iterable[str]) -> None:
    """Queue the first attempt of each delivery written in this transaction once it commits."""
    correlation = job_fields()
    hand_off(session, (deliver_webhook_job(d, 1, correlation=correlation) for d in delivery_ids))


async def enqueue_attempt(
    redis: Redis, queues: Queues, delivery_id: str, attempt: int, *, defer_until: datetime | None = None
) -> bool:
    """Queue attempt ``attempt`` of a delivery now; False when that attempt is already queued."""
    job = deliver_webhook_job(delivery_id, attempt, defer_until=defer_until, correlation=job_fields())
    return bool(await enqueue_jobs(redis, queues, [job]))
