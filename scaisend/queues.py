"""Queue keys (D2) and the one place that builds them.

arq keeps each queue in a sorted set, so depth is ``ZCARD``; :func:`queue_depth` measures any key by its type
(list ``LLEN``, sorted set ``ZCARD``, stream ``XLEN``; a missing key is 0), which is what ``scaisend queues`` and the
exporter report.

Every job a stage hands to the next is described here, one way (issue 13): its function name, its deterministic id
(D21: arq refuses an id it still holds, so a repeated enqueue is harmless) and its queue, as a :class:`Job` built by
:func:`process_email_job`, :func:`deliver_message_job` or :func:`deliver_webhook_job` and queued by
:func:`enqueue_jobs`. Jobs decided inside a transaction are handed to :mod:`scaisend.db.handoff`, which queues them
once it has committed.

Jobs are serialized as JSON, never pickle (issue 9 finding 8; D49): with pickle, anyone able to write to Redis could
make a worker run code. Every arq pool and worker is made here (:func:`create_arq_pool`, :func:`arq_view`,
:func:`serialize_job` / :func:`deserialize_job` for ``Worker``), so no process enqueues or reads a job another way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis

EMAIL_PROCESS = "email:process"
SMTP_DELIVER = "smtp:deliver"
WEBHOOK_DELIVER = "webhook:deliver"
QUEUE_NAMES: tuple[str, ...] = (EMAIL_PROCESS, SMTP_DELIVER, WEBHOOK_DELIVER)

PROCESS_EMAIL: Final = "process_email"  # compose, on email:process
DELIVER_MESSAGE: Final = "deliver_message"  # delivery, on smtp:deliver
DELIVER_WEBHOOK: Final = "deliver_webhook"  # a webhook delivery, on webhook:deliver
DELIVER_MESSAGE_TIMEOUT: Final = 900  # seconds; MX hosts × addresses × SMTP_TIMEOUT stays well under this
ENQUEUE_CONCURRENCY = 50


@dataclass(frozen=True)
class Queues:
    """The three queue keys with ``REDIS_QUEUE_PREFIX`` applied."""

    prefix: str = ""

    def key(self, name: str) -> str:
        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name!r}")
        return f"{self.prefix}{name}"

    @property
    def email_process(self) -> str:
        return self.key(EMAIL_PROCESS)

    @property
    def smtp_deliver(self) -> str:
        return self.key(SMTP_DELIVER)

    @property
    def webhook_deliver(self) -> str:
        return self.key(WEBHOOK_DELIVER)

    def all(self) -> dict[str, str]:
        """Documented queue name → Redis key."""
        return {name: self.key(name) for name in QUEUE_NAMES}


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


def serialize_job(data: dict[str, Any]) -> bytes:
    """A job or its result as JSON; a value JSON cannot hold (an exception in a result) is kept as its text."""
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def deserialize_job(raw: bytes) -> dict[str, Any]:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("an arq job must be a JSON object")
    return data


async def create_arq_pool(url: str) -> ArqRedis:
    """An arq pool on ``url`` that writes and reads jobs as JSON."""
    return await create_pool(redis_settings(url), job_serializer=serialize_job, job_deserializer=deserialize_job)


def arq_view(redis: Redis) -> ArqRedis:
    """An arq view of a plain Redis client sharing its connection pool, writing and reading jobs as JSON."""
    if isinstance(redis, ArqRedis):
        return redis
    return ArqRedis(pool_or_conn=redis.connection_pool, job_serializer=serialize_job, job_deserializer=deserialize_job)


async def key_depth(redis: Redis, key: str) -> int:
    """Length of ``key`` measured by its type; a missing key or another type counts 0."""
    kind = await redis.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind == "zset":
        return int(await redis.zcard(key))
    if kind == "list":
        return int(await redis.llen(key))  # type: ignore[misc]  # redis-py types llen as sync-or-async
    if kind == "stream":
        return int(await redis.xlen(key))
    return 0


async def queue_depths(redis: Redis, queues: Queues) -> dict[str, int]:
    """Depth of each of the three queues, keyed by the documented name."""
    return {name: await key_depth(redis, key) for name, key in queues.all().items()}


def process_email_job_id(message_id: str, retry: int | None = None) -> str:
    """``process_email:<message>`` for the first run; ``…:retry-<n>`` for a user's retry (arq refuses an id it still
    knows)."""
    return f"{PROCESS_EMAIL}:{message_id}" if retry is None else f"{PROCESS_EMAIL}:{message_id}:retry-{retry}"


def deliver_message_job_id(message_id: str, attempt: int = 1) -> str:
    return f"{DELIVER_MESSAGE}:{message_id}:{attempt}"


def deliver_webhook_job_id(delivery_id: str, attempt: int) -> str:
    return f"{DELIVER_WEBHOOK}:{delivery_id}:{attempt}"


@dataclass(frozen=True)
class Job:
    """One arq job to queue: ``function(*args)`` with its deterministic id on the documented queue ``queue``, run at
    ``defer_until`` or after ``defer_by`` (or now). ``correlation`` is the log context the job binds (D55)."""

    function: str
    args: tuple[str | int, ...]
    job_id: str
    queue: str
    defer_until: datetime | None = None
    defer_by: timedelta | None = None
    correlation: Mapping[str, str | None] = field(default_factory=dict)


def process_email_job(
    message_id: str,
    *,
    retry: int | None = None,
    defer_until: datetime | None = None,
    correlation: Mapping[str, str | None] | None = None,
) -> Job:
    return Job(
        PROCESS_EMAIL,
        (message_id,),
        process_email_job_id(message_id, retry),
        EMAIL_PROCESS,
        defer_until=defer_until,
        correlation=correlation or {},
    )


def deliver_message_job(
    message_id: str,
    attempt: int = 1,
    *,
    defer_by: timedelta | None = None,
    correlation: Mapping[str, str | None] | None = None,
) -> Job:
    return Job(
        DELIVER_MESSAGE,
        (message_id, attempt),
        deliver_message_job_id(message_id, attempt),
        SMTP_DELIVER,
        defer_by=defer_by,
        correlation=correlation or {},
    )


def deliver_webhook_job(
    delivery_id: str,
    attempt: int,
    *,
    defer_until: datetime | None = None,
    correlation: Mapping[str, str | None] | None = None,
) -> Job:
    return Job(
        DELIVER_WEBHOOK,
        (delivery_id,),
        deliver_webhook_job_id(delivery_id, attempt),
        WEBHOOK_DELIVER,
        defer_until=defer_until,
        correlation=correlation or {},
    )


async def enqueue_jobs(redis: Redis, queues: Queues, jobs: Sequence[Job]) -> int:
    """Queue ``jobs`` (at most :data:`ENQUEUE_CONCURRENCY` at a time); how many were new. Redis errors propagate:
    the caller decides whether they matter (for a hand-off after a commit they do not: the reconciler queues what is
    missing, D76)."""
    pool = arq_view(redis)
    semaphore = asyncio.Semaphore(ENQUEUE_CONCURRENCY)

    async def one(job: Job) -> bool:
        async with semaphore:
            queued = await pool.enqueue_job(
                job.function,
                *job.args,
                _job_id=job.job_id,
                _queue_name=queues.key(job.queue),
                _defer_until=job.defer_until,
                _defer_by=job.defer_by,
                correlation=dict(job.correlation),
            )
            return queued is not None

    if len(jobs) == 1:
        return int(await one(jobs[0]))
    return sum(await asyncio.gather(*(one(job) for job in jobs)))
