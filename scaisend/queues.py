"""Queue keys (D2) and the one place that builds them.

arq keeps each queue in a sorted set, so depth is ``ZCARD``; :func:`queue_depth` measures any key by its type
(list ``LLEN``, sorted set ``ZCARD``, stream ``XLEN``; a missing key is 0), which is what ``scaisend queues`` and the
exporter report.

Jobs are serialized as JSON, never pickle (issue 9 finding 8; D49): with pickle, anyone able to write to Redis could
make a worker run code. Every arq pool and worker is made here (:func:`create_arq_pool`, :func:`arq_view`,
:func:`serialize_job` / :func:`deserialize_job` for ``Worker``), so no process enqueues or reads a job another way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis

EMAIL_PROCESS = "email:process"
SMTP_DELIVER = "smtp:deliver"
WEBHOOK_DELIVER = "webhook:deliver"
QUEUE_NAMES: tuple[str, ...] = (EMAIL_PROCESS, SMTP_DELIVER, WEBHOOK_DELIVER)


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
