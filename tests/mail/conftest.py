"""Fixtures for the accept-stage tests: a tenant that may send live (verified sender domain), and the run's
``email:process`` queue, emptied after every test so no job of these tests reaches another test's worker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.factories.messages import ProcessQueue, StaleMessages, make_sender_domain
from tests.factories.tenants import TenantKey, make_tenant


@pytest.fixture
async def sender(app: FastAPI) -> TenantKey:
    """A tenant (all scopes) with ``mail.example.com`` verified and active."""
    owner = await make_tenant(app.state.resources.maker)
    await make_sender_domain(app.state.resources.maker, owner.tenant_id)
    return owner


@pytest.fixture(autouse=True)
async def process_queue(app: FastAPI, redis: Redis) -> AsyncIterator[ProcessQueue]:
    queue = ProcessQueue(redis, app.state.resources.queues.email_process)
    await queue.clear()  # empty at the start too: a test outside this package may have left a job on the run's queue
    yield queue
    await queue.clear()


@pytest.fixture
async def stale_messages(app: FastAPI) -> AsyncIterator[StaleMessages]:
    stale = StaleMessages(app.state.resources.maker)
    yield stale
    await stale.retire()
