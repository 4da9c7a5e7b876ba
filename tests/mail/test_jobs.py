"""The enqueue-after-commit guarantee (docs/architecture.md, docs/compose.md, docs/delivery.md, D21, D22, D23, D76): when Redis cannot take the job, the send still
answers 202, the message stays ``queued``, and the reconciler enqueues it later. Nothing accepted is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from scaisend.api.app import create_app
from scaisend.db.session import unit_of_work
from scaisend.mail.jobs import process_email_for
from scaisend.messages.service import requeue_stale_queued
from scaisend.queues import enqueue_jobs, process_email_job
from scaisend.queues import process_email_job_id as process_job_id
from scaisend.settings import Settings
from tests.factories.messages import STALE_AT, ProcessQueue, StaleMessages, message_row, send, send_body
from tests.factories.tenants import TenantKey
from tests.harness.processes import free_port


@pytest.fixture
async def redis_down_client(database: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API whose hand-off Redis points at a port where no Redis listens (the rate limiter keeps the real one)."""
    application = create_app(database)
    resources = application.state.resources
    working, resources.redis = resources.redis, Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
        yield c
    await resources.aclose()
    await working.aclose()


async def test_a_send_survives_redis_being_down(
    app: FastAPI,
    redis_down_client: httpx.AsyncClient,
    sender: TenantKey,
    process_queue: ProcessQueue,
    stale_messages: StaleMessages,
) -> None:
    [message_id] = await send(redis_down_client, sender, send_body())
    maker = app.state.resources.maker
    assert (await message_row(maker, message_id)).status == "queued"
    assert process_job_id(message_id) not in await process_queue.scores()

    await stale_messages.age(message_id)
    async with unit_of_work(maker) as session:
        added = await requeue_stale_queued(
            session,
            await app.state.resources.arq_pool(),
            STALE_AT + timedelta(seconds=1),
            queues=app.state.resources.queues,
        )
    assert added == 1
    assert process_job_id(message_id) in await process_queue.scores()


class TestEnqueueProcessEmail:
    async def test_a_job_id_is_taken_once(self, app: FastAPI, process_queue: ProcessQueue) -> None:
        pool = await app.state.resources.arq_pool()
        job = process_email_job("msg_test_once")
        assert await enqueue_jobs(pool, app.state.resources.queues, [job, job]) == 1
        assert list(await process_queue.scores()) == ["process_email:msg_test_once"]

    async def test_retry_ids_are_new(self, app: FastAPI, process_queue: ProcessQueue) -> None:
        pool = await app.state.resources.arq_pool()
        now = datetime.now(UTC)
        jobs = [process_email_for("msg_test_retry", None, now, retry=n) for n in (None, 1, 2)]
        assert [j.job_id for j in jobs] == [
            "process_email:msg_test_retry",
            "process_email:msg_test_retry:retry-1",
            "process_email:msg_test_retry:retry-2",
        ]
        assert await enqueue_jobs(pool, app.state.resources.queues, jobs) == 3

    def test_defer_only_when_ahead(self) -> None:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        assert process_email_for("m", STALE_AT, now).defer_until is None
        assert process_email_for("m", datetime(2026, 1, 2, tzinfo=UTC), now).defer_until == datetime(
            2026, 1, 2, tzinfo=UTC
        )
