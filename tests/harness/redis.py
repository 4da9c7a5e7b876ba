"""Redis for tests: the shared server, our own database index and key prefix; only our own keys are removed."""

from __future__ import annotations

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
