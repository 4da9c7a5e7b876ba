"""Queues rebuilt from the database while the processes keep running (issue 14 items 1 and 3, D64, D75;
docs/reliability.md).

The database is the source of truth; a queue is only the list of what is to be done next. Each worker and SMTP process
runs one :class:`QueueRebuilder` beside its queues, which puts back the job of every message (and, in the worker,
every webhook delivery) of its stage that has none:

- **at start** (the start-up pass, D64): everything of the stage, at once;
- **when Redis lost its data** (a ``FLUSHALL``, a new instance, a restart without persistence): noticed within
  :data:`CHECK_EVERY` seconds because the epoch key ``<prefix>scaisend:queues-epoch`` is gone or changed; and
  **when Redis restarted** (its ``run_id`` changed, or it could not be reached for a while): a restart on the
  append-only file loses up to its last second of writes (jobs enqueued then, a running job's in-progress key). Every
  process that notices first writes again the leases of the jobs it is running (:meth:`JobLeases.reassert`, so
  nobody takes a running job a second time), then waits :data:`SETTLE` seconds for the other processes to do the
  same, then runs the pass;
- **every** :data:`RECONCILE_EVERY` **seconds** (the reconciler, D76): what is older than :data:`RECONCILE_AGE`,
  which bounds any "committed but not enqueued" window (a crash between a commit and its enqueue, a Redis error at
  the enqueue) to about a minute instead of the old sweeps' 5-20 minutes.

Job ids are deterministic (D21), so arq refuses every job that still exists (waiting, deferred or running): a pass
over a healthy system adds nothing, and every replica may run it. Each pass reads at most 1,000 rows per status,
oldest first, and asks Redis once per candidate. Database or Redis errors skip one round with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from scaisend.db.session import unit_of_work
from scaisend.delivery.sweep import requeue_stale_deliveries
from scaisend.job_context import JobContext
from scaisend.messages.service import requeue_stale_queued
from scaisend.webhooks.tasks import sweep_webhook_deliveries
from scaisend.workers.leases import BEAT_EVERY, JobLeases

logger = logging.getLogger(__name__)

CHECK_EVERY = BEAT_EVERY  # seconds between two looks at the epoch key
SETTLE = 2 * BEAT_EVERY + 1.0  # every live process has looked at the epoch (and reasserted its jobs) by then
RECONCILE_EVERY = 20.0
RECONCILE_AGE = timedelta(seconds=30)  # older than any commit-to-enqueue gap of a live process

StagePass = Callable[[JobContext, timedelta], Awaitable[int]]
"""Queue again the jobs of the stage's rows older than the age that have none; how many were new."""

_FAILURES = (SQLAlchemyError, RedisError, OSError)


async def requeue_worker_stages(ctx: JobContext, age: timedelta) -> int:
    """The worker's stages: a ``process_email`` job for every ``queued`` message (scheduled ones deferred to
    ``send_at``), a ``deliver_webhook`` job for every due pending webhook delivery."""
    async with unit_of_work(ctx["maker"]) as session:
        added = await requeue_stale_queued(session, ctx["redis"], ctx["clock"].now() - age, queues=ctx["queues"])
    return added + await sweep_webhook_deliveries(ctx)


async def requeue_delivery_stage(ctx: JobContext, age: timedelta) -> int:
    """The SMTP service's stage: a ``deliver_message`` job for every due ``rendered`` and every ``sending`` message."""
    return await requeue_stale_deliveries(ctx, late_after=age, stuck_after=age)


class QueueRebuilder:
    def __init__(
        self,
        ctx: JobContext,
        leases: JobLeases,
        stage_pass: StagePass,
        *,
        check_every: float = CHECK_EVERY,
        settle: float = SETTLE,
        reconcile_every: float = RECONCILE_EVERY,
        reconcile_age: timedelta = RECONCILE_AGE,
    ) -> None:
        self.ctx = ctx
        self.leases = leases
        self.stage_pass = stage_pass
        self.check_every = check_every
        self.settle = settle
        self.reconcile_every = reconcile_every
        self.reconcile_age = reconcile_age
        self.epoch_key = f"{ctx['settings'].REDIS_QUEUE_PREFIX}scaisend:queues-epoch"
        self.seen: bytes | None = None
        self.run_id = ""

    async def epoch_changed(self) -> bool:
        """Whether Redis lost its data or restarted since the last look: the epoch key is gone or holds another value
        (a missing key is written again, so the other processes see a new value too), or the server's ``run_id``
        changed (a restart, a failover)."""
        redis = self.ctx["redis"]
        await redis.set(self.epoch_key, uuid.uuid4().hex.encode(), nx=True)
        current: bytes | None = await redis.get(self.epoch_key)
        run_id = str((await redis.info("server")).get("run_id", ""))
        changed = self.seen is not None and (current != self.seen or run_id != self.run_id)
        self.seen, self.run_id = current, run_id
        return changed

    async def requeue(self, reason: str, age: timedelta) -> int | None:
        try:
            added = await self.stage_pass(self.ctx, age)
        except _FAILURES as exc:
            logger.warning("queue rebuild skipped; tried again later", extra={"reason": reason, "error": repr(exc)})
            return None
        if added or reason != "reconcile":
            logger.info("queue rebuild", extra={"reason": reason, "requeued": added})
        return added

    async def start(self) -> None:
        """The start-up pass, after a first look at the epoch."""
        try:
            await self.epoch_changed()
        except _FAILURES as exc:
            logger.warning("queue epoch unreadable at start", extra={"error": repr(exc)})
        await self.requeue("start", timedelta(0))

    async def run(self) -> None:
        """Watch the epoch and reconcile until cancelled."""
        reconciled = time.monotonic()
        unreachable = False
        while True:
            await asyncio.sleep(self.check_every)
            try:
                lost = await self.epoch_changed()
            except _FAILURES as exc:
                unreachable = True
                logger.warning("queue epoch unreadable", extra={"error": repr(exc)})
                continue
            if lost or unreachable:
                unreachable = False
                logger.warning("Redis lost its queues or restarted; rebuilding them from the database")
                try:
                    await self.leases.reassert()
                except _FAILURES as exc:
                    logger.warning("running jobs not reasserted", extra={"error": repr(exc)})
                await asyncio.sleep(self.settle)
                await self.requeue("redis lost its data", timedelta(0))
                reconciled = time.monotonic()
            elif time.monotonic() - reconciled >= self.reconcile_every:
                await self.requeue("reconcile", self.reconcile_age)
                reconciled = time.monotonic()
