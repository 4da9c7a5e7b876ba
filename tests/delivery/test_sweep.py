"""The delivery sweep queues the job again for messages whose job went missing, and for nothing else."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI

from scaisend.delivery.sweep import requeue_stale_deliveries
from scaisend.delivery.tasks import enqueue_delivery
from tests.factories.delivery import DeliveryWorld, Sender, make_sender, open_world
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX


@pytest.fixture(scope="module")
async def sender(app: FastAPI) -> Sender:
    return await make_sender(app.state.resources.maker, app.state.resources.settings)


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender) as w:
        yield w


def address() -> str:
    return f"r{uuid.uuid4().hex[:8]}@rcpt.example.test"


class TestRequeueStaleDeliveries:
    async def test_queues_missing_jobs_once(self, world: DeliveryWorld) -> None:
        now = world.clock.now()
        never_sent = await world.message([address()])
        retry_due = await world.message([address()], attempts=2, next_attempt_at=now + timedelta(minutes=5))
        stuck = await world.message([address()], status="sending", attempts=1)
        retried_by_user = await world.message([address()], attempts=4)
        world.clock.advance(timedelta(minutes=25))
        assert await requeue_stale_deliveries(world.ctx) >= 4
        for message_id, attempt in ((never_sent, 1), (retry_due, 3), (stuck, 1), (retried_by_user, 5)):
            queued = await world.queued(message_id, attempt)
            assert queued is not None
            assert queued[1] == (message_id, attempt)
        assert await world.queued(never_sent, 2) is None
        assert await requeue_stale_deliveries(world.ctx) == 0  # already queued: arq refuses the ids

    async def test_leaves_healthy_and_final_messages_alone(self, world: DeliveryWorld) -> None:
        now = world.clock.now()
        fresh = await world.message([address()])
        waiting = await world.message([address()], attempts=1, next_attempt_at=now + timedelta(hours=2))
        running = await world.message([address()], status="sending", attempts=1)
        done = await world.message([address()], status="delivered", attempts=1)
        world.clock.advance(timedelta(minutes=11))
        await requeue_stale_deliveries(world.ctx)
        assert await world.queued(fresh, 1) is not None  # untouched for 10 minutes: its first job is missing
        assert await world.queued(waiting, 2) is None
        assert await world.queued(running, 1) is None  # a job may run up to 15 minutes
        assert await world.queued(done, 2) is None

    async def test_a_requeued_job_delivers(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address()
        message_id = await world.message([to])
        assert await enqueue_delivery(world.ctx["redis"], world.ctx["queues"], message_id)  # the "lost" job
        await world.ctx["redis"].delete(world.ctx["queues"].smtp_deliver)
        await world.ctx["redis"].delete(f"arq:job:deliver_message:{message_id}:1")
        world.clock.advance(timedelta(minutes=11))
        await requeue_stale_deliveries(world.ctx)
        queued = await world.queued(message_id, 1)
        assert queued is not None
        await world.run(*queued[1])
        assert len(world.mx.mailbox(to)) == 1
