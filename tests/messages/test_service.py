"""``requeue_stale_queued`` (the safety net of the enqueue-after-commit guarantee): which messages it enqueues
again, with which job id and deferral, and that repeating it is harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from scaisend.db.session import unit_of_work
from scaisend.messages.service import requeue_stale_queued
from tests.factories.messages import (
    STALE_AT,
    ProcessQueue,
    StaleMessages,
    send,
    send_body,
    send_sandbox,
    set_message,
)
from tests.factories.tenants import TenantKey

CUTOFF = STALE_AT + timedelta(days=1)  # only rows aged by the stale_messages fixture are older


async def sweep(app: FastAPI) -> int:
    async with unit_of_work(app.state.resources.maker) as session:
        return await requeue_stale_queued(
            session, await app.state.resources.arq_pool(), CUTOFF, queues=app.state.resources.queues
        )


class TestRequeueStaleQueued:
    async def test_only_stale_queued_messages(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        sender: TenantKey,
        process_queue: ProcessQueue,
        stale_messages: StaleMessages,
    ) -> None:
        maker = app.state.resources.maker
        send_at = int((datetime.now(UTC) + timedelta(hours=3)).timestamp())
        stale, scheduled, cancelled, fresh = await send(
            client, sender, send_body("a@example.org", "b@example.org", "c@example.org", "d@example.org")
        )
        [boxed] = await send_sandbox(client, sender)
        await process_queue.clear()  # as if every enqueue had failed
        await set_message(maker, scheduled, send_at=datetime.fromtimestamp(send_at, UTC))
        await set_message(maker, cancelled, status="cancelled")
        await stale_messages.age(stale, scheduled, cancelled, boxed)

        assert await sweep(app) == 2
        scores = await process_queue.scores()
        assert set(scores) == {f"process_email:{stale}", f"process_email:{scheduled}"}
        assert scores[f"process_email:{scheduled}"] == send_at * 1000
        assert f"process_email:{fresh}" not in scores

    async def test_a_waiting_job_is_not_doubled(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        sender: TenantKey,
        process_queue: ProcessQueue,
        stale_messages: StaleMessages,
    ) -> None:
        [message_id] = await send(client, sender, send_body())
        await stale_messages.age(message_id)
        assert await sweep(app) == 0  # the job from the send is still waiting
        await process_queue.clear()
        assert await sweep(app) == 1
        assert await sweep(app) == 0
        assert list(await process_queue.scores()) == [f"process_email:{message_id}"]

    async def test_due_messages_come_before_far_future_scheduled_ones(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        sender: TenantKey,
        process_queue: ProcessQueue,
        stale_messages: StaleMessages,
    ) -> None:
        maker = app.state.resources.maker
        later = datetime.now(UTC) + timedelta(days=30)
        scheduled_a, scheduled_b, due = await send(
            client, sender, send_body("a@example.org", "b@example.org", "c@example.org")
        )
        await process_queue.clear()
        await stale_messages.age(scheduled_a, scheduled_b, due)
        for message_id in (scheduled_a, scheduled_b):  # older than the due one, so oldest-first alone would take them
            await set_message(maker, message_id, send_at=later, updated_at=STALE_AT - timedelta(hours=1))
        async with unit_of_work(maker) as session:
            added = await requeue_stale_queued(
                session, await app.state.resources.arq_pool(), CUTOFF, queues=app.state.resources.queues, limit=1
            )
        assert added == 1
        assert list(await process_queue.scores()) == [f"process_email:{due}"]
