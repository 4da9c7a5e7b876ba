"""Fixtures of the worker tests: an arq pool on the run's Redis (closed after the test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis

from scaisend.queues import create_arq_pool
from scaisend.settings import Settings


@pytest.fixture
async def pool(own_prefix: Settings) -> AsyncIterator[ArqRedis]:
    redis = await create_arq_pool(own_prefix.REDIS_URL)
    yield redis
    await redis.aclose()
