"""Redis for tests: the shared server, our own database index and key prefix; only our own keys are removed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from scaisend.settings import Settings


async def delete_prefixed(redis: Redis, prefix: str) -> None:
    async for key in redis.scan_iter(match=f"{prefix}*", count=500):
        await redis.delete(key)


@pytest.fixture(scope="session")
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.REDIS_URL)
    yield client
    await delete_prefixed(client, settings.REDIS_QUEUE_PREFIX)
    await client.aclose()


@pytest.fixture
async def own_prefix(database: Settings, redis: Redis) -> AsyncIterator[Settings]:
    """The run's settings with a key prefix of this test's own, for tests that count what is under a prefix (queue
    depths): they then see only what the test put there, never a job another test of the run left behind."""
    prefix = f"{database.REDIS_QUEUE_PREFIX}x{uuid.uuid4().hex[:8]}:"
    settings = database.model_copy(update={"REDIS_QUEUE_PREFIX": prefix})
    yield settings
    await delete_prefixed(redis, settings.REDIS_QUEUE_PREFIX)
