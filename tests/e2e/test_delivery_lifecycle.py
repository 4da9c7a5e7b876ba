"""Stage 3 end to end: the message lifecycle around delivery (D10, docs/architecture.md, docs/compose.md, docs/delivery.md, D21): expiry after SMTP_MAX_AGE, skips
(cancelled, superseded, not verified), the crash windows (journal, lost retry job), webhook fan-out of the events,
connection reuse across jobs, and the job running in a real burst-mode arq worker as registered in
``scaisend.workers.smtp``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.compose.steps import store_mime
from scaisend.db.session import unit_of_work
from scaisend.delivery.journal import HandoffJournal
from scaisend.delivery.result import DeliveryResult, Outcome
from scaisend.delivery.tasks import enqueue_delivery
from scaisend.models import Message, WebhookDelivery
from scaisend.queues import Queues
from scaisend.tenants.service import get_tenant, set_suspended
from scaisend.workers.context import serve_queues
from scaisend.workers.smtp import SMTP_JOBS, SMTP_STARTERS
from tests.factories.delivery import DeliveryWorld, Sender, build_mime, make_sender, open_world
from tests.factories.webhooks import make_endpoint
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX, Slow

MAX_AGE = timedelta(hours=72)


@pytest.fixture(scope="module")
async def sender(app: FastAPI) -> Sender:
    return await make_sender(app.state.resources.maker, app.state.resources.settings)


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender) as w:
        w.route("rcpt.example.test")
        yield w


def address() -> str:
    return f"r{uuid.uuid4().hex[:8]}@rcpt.example.test"


class TestExpiry:
    async def test_deferral_after_max_age_is_a_soft_bounce_with_the_last_response(self, world: DeliveryWorld) -> None:
        to = address()
        world.mx.script(to, "421 4.7.0 Try again later")
        message_id = await world.message(
            [to], status="rendered", attempts=6, created_at=world.clock.now() - MAX_AGE - timedelta(minutes=1)
        )
        await world.run(message_id, 7)
        (event,) = await world.events(message_id)
        assert event.event_type == "bounce"
        assert event.data == {
            "reason": "421 4.7.0 Try again later",
            "status": "4.7.0",
            "bounce_type": "soft",
            "bounce_classification": "Unclassified",
            "mx": "mx.rcpt.example.test",
            "attempt": 7,
            "expired": True,
        }
        row = await world.row(message_id)
        assert (row.status, row.attempts, row.error_message) == ("bounced", 7, "421 4.7.0 Try again later")
        assert await world.bounce_list(to) == []
        assert await world.queued(message_id, 8) is None

    async def test_the_last_retry_lands_on_the_deadline(self, world: DeliveryWorld) -> None:
        to = address()
        world.mx.script(to, "451 4.3.0 Temporary failure")
        message_id = await world.message(
            [to], attempts=20, created_at=world.clock.now() - MAX_AGE + timedelta(minutes=3)
        )
        await world.run(message_id, 21)
        row = await world.row(message_id)
        assert row.next_attempt_at is not None
        assert row.next_attempt_at - world.clock.now() == timedelta(minutes=3)
        world.clock.advance(timedelta(minutes=3))
        await world.run(message_id, 22)
        assert (await world.row(message_id)).status == "bounced"
        assert [e.event_type for e in await world.events(message_id)] == ["deferred", "bounce"]


class TestSkips:
    @pytest.mark.parametrize("status", ["cancelled", "delivered", "failed", "queued", "processing"])
    async def test_nothing_is_sent(self, world: DeliveryWorld, status: str) -> None:
        to = address()
        message_id = await world.message([to], status=status)
        assert (await world.run(message_id)).startswith(f"message is {status}")
        assert world.mx.connections == 0
        assert (await world.row(message_id)).status == status
        assert await world.events(message_id) == []

    async def test_superseded_attempt(self, world: DeliveryWorld) -> None:
        message_id = await world.message([address()], attempts=3)
        assert await world.run(message_id, 2) == "attempt 2 superseded by attempt 3"
        assert world.mx.connections == 0

    async def test_attempt_already_done_before_the_message_was_rendered_again(self, world: DeliveryWorld) -> None:
        message_id = await world.message([address()], attempts=2)  # re-rendered after attempt 2: attempt 3 is next
        assert await world.run(message_id, 2) == "attempt 2 already done"
        assert world.mx.connections == 0
        assert await world.queued(message_id, 3) is None

    async def test_sender_domain_no_longer_verified_fails_the_message(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX
    ) -> None:
        unverified = await make_sender(app.state.resources.maker, app.state.resources.settings, verified=False)
        async with open_world(app, dns, mx, sender=unverified) as world:
            world.route("rcpt.example.test")
            message_id = await world.message([address()])
            assert await world.run(message_id) == "Sender domain not verified"
            row = await world.row(message_id)
            assert (row.status, row.error_message) == ("failed", "Sender domain not verified")
            assert mx.connections == 0

    async def test_suspended_tenant_sends_nothing(self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX) -> None:
        """A message composed before its tenant was suspended is stopped where delivery loads it (D52)."""
        maker, settings = app.state.resources.maker, app.state.resources.settings
        suspended = await make_sender(maker, settings)
        async with open_world(app, dns, mx, sender=suspended) as world:
            world.route("rcpt.example.test")
            message_id = await world.message([address()])
            async with unit_of_work(maker) as session:
                await set_suspended(session, await get_tenant(session, suspended.tenant_id), True)
            assert await world.run(message_id) == "Tenant suspended: the message was not sent"
            row = await world.row(message_id)
            assert (row.status, row.error_message) == ("failed", "Tenant suspended: the message was not sent")
            assert mx.connections == 0

    async def test_missing_message(self, world: DeliveryWorld) -> None:
        assert await world.run("msg_doesnotexist") == "message not found"


class TestCrashWindows:
    async def test_rerun_after_a_crash_between_data_and_commit_does_not_resend(self, world: DeliveryWorld) -> None:
        to = address()
        message_id = await world.message([to], status="sending", attempts=1)
        journal = HandoffJournal(world.ctx["redis"], world.settings.REDIS_QUEUE_PREFIX)
        await journal.add(
            message_id,
            1,
            [
                DeliveryResult(
                    to, Outcome.DELIVERED, 250, "2.0.0", "250 2.0.0 OK: queued", mx_host="mx.rcpt.example.test"
                )
            ],
        )
        await world.run(message_id, 1)
        assert world.mx.connections == 0
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["smtp_response"]) == ("delivered", "250 2.0.0 OK: queued")
        assert (await world.row(message_id)).status == "delivered"
        assert await journal.load(message_id, 1) == {}

    async def test_lost_retry_job_is_enqueued_again_without_sending(self, world: DeliveryWorld) -> None:
        to = address()
        due = world.clock.now() + timedelta(minutes=4)
        message_id = await world.message([to], attempts=1, next_attempt_at=due)
        assert await world.run(message_id, 1) == "attempt 1 already recorded; attempt 2 queued"
        queued = await world.queued(message_id, 2)
        assert queued is not None
        assert queued[1] == (message_id, 2)
        assert world.mx.connections == 0


class TestUserRetry:
    async def test_a_message_composed_again_is_sent_again(self, world: DeliveryWorld) -> None:
        to = address()
        world.mx.script(to, "552 5.2.2 Mailbox full", "250 2.1.5 OK")
        message_id = await world.message([to])
        await world.run(message_id)
        assert (await world.row(message_id)).status == "bounced"
        world.clock.advance(timedelta(minutes=10))
        async with unit_of_work(world.maker) as session:  # what POST …/retry and compose leave: new MIME, rendered
            message = await session.get(Message, message_id)
            assert message is not None
            await store_mime(session, message, build_mime(message_id, world.sender.address, [to]), world.clock.now())
        await world.run(message_id, 2)
        assert len(world.mx.mailbox(to)) == 1
        row = await world.row(message_id)
        assert (row.status, row.attempts, row.error_message) == ("delivered", 2, None)
        assert [e.event_type for e in await world.events(message_id)] == ["bounce", "delivered"]


class TestWebhooks:
    async def test_events_reach_the_tenants_webhooks_after_the_commit(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX
    ) -> None:
        maker, settings = app.state.resources.maker, app.state.resources.settings
        owner = await make_sender(maker, settings)
        endpoint_id, _ = await make_endpoint(maker, settings, owner.tenant_id, "http://127.0.0.1:9/hook", ["delivered"])
        async with open_world(app, dns, mx, sender=owner) as world:
            world.route("rcpt.example.test")
            message_id = await world.message([address()])
            await world.run(message_id)
            (event,) = await world.events(message_id)
            async with unit_of_work(maker) as session:
                (delivery,) = (
                    await session.scalars(
                        select(WebhookDelivery).where(
                            WebhookDelivery.tenant_id == owner.tenant_id, WebhookDelivery.endpoint_id == endpoint_id
                        )
                    )
                ).all()
            assert delivery.event_ids == [event.event_id]
            queued = await world.ctx["redis"].zrange(world.ctx["queues"].webhook_deliver, 0, -1)
            assert f"deliver_webhook:{delivery.id}:1".encode() in queued


class TestWorker:
    async def test_concurrent_jobs_share_the_pool(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender
    ) -> None:
        async with open_world(app, dns, mx, sender=sender, SMTP_POOL_SIZE_PER_DOMAIN=2) as world:
            world.route("rcpt.example.test")
            recipients = [address() for _ in range(6)]
            for to in recipients:
                mx.script(to, Slow(0.1))
            ids = [await world.message([to]) for to in recipients]
            await asyncio.gather(*(world.run(message_id) for message_id in ids))
            assert all(len(mx.mailbox(to)) == 1 for to in recipients)
            assert mx.connections == 2
            assert mx.peak_sessions == 2

    async def test_registered_job_runs_in_a_burst_worker(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender
    ) -> None:
        async with open_world(app, dns, mx, sender=sender) as world:
            world.route("rcpt.example.test")
            to = address()
            message_id = await world.message([to])
            assert await enqueue_delivery(world.ctx["redis"], world.ctx["queues"], message_id)
            assert not await enqueue_delivery(world.ctx["redis"], world.ctx["queues"], message_id)
            queues = Queues(world.settings.REDIS_QUEUE_PREFIX)
            await asyncio.wait_for(
                serve_queues(world.settings, {queues.smtp_deliver: SMTP_JOBS}, burst=True, starters=SMTP_STARTERS), 30
            )
            assert len(mx.mailbox(to)) == 1
            assert (await world.row(message_id)).status == "delivered"
            await mx.wait_until(lambda: mx.active_sessions == 0)  # the stopper closed the pooled connection
            assert mx.sessions[-1].closed
