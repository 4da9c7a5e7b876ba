"""The ``process_email`` jobs the accept stage hands to compose (spec §6.1, D2; style.md §8.7): ids only, deferred
to ``send_at``, enqueued on ``email:process`` only AFTER the messages are committed.

Job ids: ``process_email:<message_id>`` for the first run, so a repeated enqueue (the stale-message sweep) is refused
by arq while the job is still waiting; ``process_email:<message_id>:retry-<n>`` for a user's retry, because arq
refuses an id it still knows.

Guarantee: a message is committed ``queued`` before its job exists. If the enqueue then fails (Redis down), the send
still answers 202 and the message stays ``queued``; ``scaisend.messages.service.requeue_stale_queued`` (run by the
worker's cron) enqueues it again. An accepted message is never lost; at worst it is late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from arq.connections import ArqRedis

from scaisend.logs import job_fields
from scaisend.queues import Queues

logger = logging.getLogger(__name__)

PROCESS_EMAIL = "process_email"  # the arq function name compose registers (scaisend/workers/email.py)
ENQUEUE_CONCURRENCY = 50


def process_job_id(message_id: str, retry: int | None = None) -> str:
    return f"{PROCESS_EMAIL}:{message_id}" if retry is None else f"{PROCESS_EMAIL}:{message_id}:retry-{retry}"


@dataclass(frozen=True)
class ProcessEmailJob:
    message_id: str
    job_id: str
    defer_until: datetime | None = None
    tenant_id: str | None = None
    request_id: str | None = None  # the X-Request-ID that accepted the message (D55), carried in the job

    @classmethod
    def for_message(
        cls,
        message_id: str,
        send_at: datetime | None,
        now: datetime,
        retry: int | None = None,
        *,
        tenant_id: str | None = None,
        request_id: str | None = None,
    ) -> ProcessEmailJob:
        """The job of a message, deferred to ``send_at`` when that is still ahead."""
        defer = send_at if send_at is not None and send_at > now else None
        return cls(message_id, process_job_id(message_id, retry), defer, tenant_id, request_id)


async def enqueue_process_email(pool: ArqRedis, queues: Queues, jobs: Sequence[ProcessEmailJob]) -> int:
    """Enqueue ``jobs`` on ``email:process``; how many were new (arq refuses an id it already holds).
    Redis errors propagate: the caller decides whether they matter (the messages are already committed)."""
    semaphore = asyncio.Semaphore(ENQUEUE_CONCURRENCY)

    async def one(job: ProcessEmailJob) -> bool:
        async with semaphore:
            queued = await pool.enqueue_job(
                PROCESS_EMAIL,
                job.message_id,
                _job_id=job.job_id,
                _queue_name=queues.email_process,
                _defer_until=job.defer_until,
                correlation=job_fields(message_id=job.message_id, tenant_id=job.tenant_id, request_id=job.request_id),
            )
            return queued is not None

    results = await asyncio.gather(*(one(job) for job in jobs))
    return sum(results)


async def enqueue_after_commit(
    pool: Callable[[], Awaitable[ArqRedis]], queues: Queues, jobs: Sequence[ProcessEmailJob]
) -> bool:
    """Enqueue already-committed messages; a failure (getting the pool included) is logged, not raised: the sweep
    re-enqueues them. ``False`` when it failed."""
    if not jobs:
        return True
    try:
        await enqueue_process_email(await pool(), queues, jobs)
    except Exception:
        logger.exception(
            "enqueue failed; the messages stay queued for the requeue sweep",
            extra={"message_ids": [j.message_id for j in jobs[:20]], "jobs": len(jobs)},
        )
        return False
    return True
