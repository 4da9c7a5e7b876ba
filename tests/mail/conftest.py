"""Fixtures for the accept-stage tests: a tenant that may send live (verified sender domain), and what a user can
observe of the ``email:process`` queue in Redis."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.factories.messages import make_sender_domain
from tests.factories.tenants import TenantKey, make_tenant


@pytest.fixture
async def sender(app: FastAPI) -> TenantKey:
    """A tenant (all scopes) with ``mail.example.com`` verified and active."""
    owner = await make_tenant(app.state.resources.maker)
    await make_sender_domain(app.state.resources.maker, owner.tenant_id)
    return owner


class ProcessQueue:
    """The run's ``email:process`` sorted set: job id → score (ms since the epoch when the job may run)."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key

    async def scores(self) -> dict[str, int]:
        rows = await self.redis.zrange(self.key, 0, -1, withscores=True)
        return {member.decode(): int(score) for member, score in rows}


@pytest.fixture
def process_queue(app: FastAPI, redis: Redis) -> ProcessQueue:
    return ProcessQueue(redis, app.state.resources.queues.email_process)
