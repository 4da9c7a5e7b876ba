"""Stage 3 end to end, one scenario per reply class (docs/delivery.md, D10, D11): a rendered message, the real
``deliver_message`` job, MariaDB, Redis, the loopback DNS and the scriptable MX; assertions on what a user sees (the
mail at the MX, the DKIM signature, the message row, the events, the bounce list, the next job in Redis)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from scaisend.delivery.envelope import ReturnPathSigner
from tests.factories.delivery import DeliveryWorld, Sender, dkim_verifies, make_sender, open_world
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import AtData, Drop, ScriptableMX, Slow

FIVE_MIN = timedelta(minutes=5)


@pytest.fixture(scope="module")
async def sender(app: FastAPI) -> Sender:
    return await make_sender(app.state.resources.maker, app.state.resources.settings)


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender, SMTP_TIMEOUT="0.5s") as w:
        yield w


def address(name: str, domain: str = "rcpt.example.test") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@{domain}"


class TestDelivered:
    async def test_250_delivers_signed_mail_with_verp_and_records_it(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("jane")
        message_id = await world.message([to], categories=["welcome"], list_unsubscribe="<https://scaisend.test/t/u/x>")
        summary = await world.run(message_id)
        assert summary == "delivered=1 deferred=0 bounced=0 blocked=0"
        (received,) = world.mx.mailbox(to)
        # D41: the return path names the message and carries the MAC signed for this recipient
        assert received.mail_from == ReturnPathSigner.from_settings(world.settings).sender(
            message_id, to, "bounces.scaisend.test"
        )
        assert received.mail_from.startswith(f"bounces+{message_id}.")
        assert received.session.ehlo == "mta.scaisend.test"
        assert received.message["X-ScaiSend-Message-Id"] == message_id
        assert dkim_verifies(received.data, world.dns)
        assert b"list-unsubscribe : list-unsubscribe-post" in received.data.replace(b"\r\n ", b" ")
        row = await world.row(message_id)
        assert (row.status, row.attempts, row.last_response, row.error_message) == (
            "delivered",
            1,
            "250 2.0.0 OK: queued",
            None,
        )
        assert row.delivered_at == row.sent_at == world.clock.now()
        (event,) = await world.events(message_id)
        assert (event.event_type, event.recipient_email) == ("delivered", to)
        assert event.data == {
            "smtp_response": "250 2.0.0 OK: queued",
            "mx": "mx.rcpt.example.test",
            "tls": False,
            "attempt": 1,
        }
        assert await world.queued(message_id, 2) is None

    async def test_a_second_run_of_the_same_attempt_sends_nothing_more(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("once")
        message_id = await world.message([to])
        await world.run(message_id)
        assert await world.run(message_id) == "message is delivered"
        assert len(world.mx.mailbox(to)) == 1
        assert len(await world.events(message_id)) == 1

    async def test_to_cc_and_bcc_across_domains(self, world: DeliveryWorld) -> None:
        world.route("one.example.test")
        world.route("two.example.test")
        to, cc, bcc = (
            address("to", "one.example.test"),
            address("cc", "two.example.test"),
            address("bcc", "one.example.test"),
        )
        message_id = await world.message([to], cc=[cc], bcc=[bcc])
        await world.run(message_id)
        # one transaction per recipient, each with its own signed return path (D41)
        assert sorted(len(m.rcpt_tos) for m in world.mx.messages) == [1, 1, 1]
        signer = ReturnPathSigner.from_settings(world.settings)
        for r in (to, cc, bcc):
            (received,) = world.mx.mailbox(r)
            assert received.mail_from == signer.sender(message_id, r, world.settings.BOUNCE_DOMAIN)
        assert len({m.session.peer for m in world.mx.messages if m.rcpt_tos[0].endswith("one.example.test")}) == 1
        assert b"Bcc" not in world.mx.mailbox(bcc)[0].data
        assert sorted(e.recipient_email for e in await world.events(message_id)) == sorted([to, cc, bcc])
        assert (await world.row(message_id)).status == "delivered"


class TestMetrics:
    async def test_the_smtp_metrics_move(self, world: DeliveryWorld) -> None:
        def sample(name: str, **labels: str) -> float:
            return REGISTRY.get_sample_value(name, labels) or 0.0

        names = [
            ("scaisend_smtp_deliveries_total", {"result": "delivered"}),
            ("scaisend_smtp_deliveries_total", {"result": "bounced"}),
            ("scaisend_smtp_connections_total", {"outcome": "success"}),
            ("scaisend_smtp_mx_lookups_total", {}),
            ("scaisend_smtp_mx_resolution_failures_total", {"reason": "nxdomain"}),
            ("scaisend_smtp_dkim_signing_duration_seconds_count", {}),
        ]
        before = [sample(name, **labels) for name, labels in names]
        world.route("rcpt.example.test")
        await world.run(await world.message([address("ok"), address("gone", "nxdomain.example.test")]))
        after = [sample(name, **labels) for name, labels in names]
        assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1, 2, 1, 1]


class TestDeferredThenDelivered:
    @pytest.mark.parametrize("reply", ["421 4.7.0 Try again later", "450 4.2.0 Mailbox busy"])
    async def test_4xx_then_250(self, world: DeliveryWorld, reply: str) -> None:
        world.route("rcpt.example.test")
        to = address("grey")
        world.mx.script(to, reply, "250 2.1.5 OK")
        message_id = await world.message([to])
        before_ms = time.time() * 1000
        assert await world.run(message_id) == "delivered=0 deferred=1 bounced=0 blocked=0"
        after_ms = time.time() * 1000
        row = await world.row(message_id)
        assert (row.status, row.attempts, row.last_response) == ("rendered", 1, reply)
        assert row.next_attempt_at is not None
        delay = row.next_attempt_at - world.clock.now()
        assert FIVE_MIN * 0.9 <= delay <= FIVE_MIN * 1.1
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["attempt"], event.data["response"]) == ("deferred", 1, reply)
        queued = await world.queued(message_id, 2)
        assert queued is not None
        score, args = queued
        assert args == (message_id, 2)
        delay_ms = delay.total_seconds() * 1000
        assert before_ms + delay_ms - 5 <= score <= after_ms + delay_ms + 5

        world.clock.advance(delay)
        assert await world.run(*args) == "delivered=1 deferred=0 bounced=0 blocked=0"
        assert world.mx.attempts(to) == 2
        assert len(world.mx.mailbox(to)) == 1
        row = await world.row(message_id)
        assert (row.status, row.attempts, row.next_attempt_at) == ("delivered", 2, None)
        assert [(e.event_type, e.data["attempt"]) for e in await world.events(message_id)] == [
            ("deferred", 1),
            ("delivered", 2),
        ]
        assert await world.queued(message_id, 3) is None

    async def test_greylisting_wait_is_honoured(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("greylisted")
        world.mx.script(to, "450 4.2.0 Greylisted, please try again in 90 seconds", "250 2.1.5 OK")
        message_id = await world.message([to])
        await world.run(message_id)
        row = await world.row(message_id)
        assert row.next_attempt_at is not None
        assert timedelta(seconds=90) <= row.next_attempt_at - world.clock.now() <= timedelta(seconds=99)

    async def test_timeout_defers(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("slow")
        world.mx.script(to, Slow(1.5))
        message_id = await world.message([to])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["status"]) == ("deferred", "4.4.1")
        assert event.data["response"] == "451 4.4.1 Timed out waiting for mx.rcpt.example.test"
        assert (await world.row(message_id)).status == "rendered"
        assert await world.queued(message_id, 2) is not None

    async def test_dropped_connection_defers(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("drop")
        world.mx.script(to, AtData(Drop()))
        message_id = await world.message([to])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["response"]) == (
            "deferred",
            "451 4.4.2 Connection lost: mx.rcpt.example.test",
        )
        assert world.mx.mailbox(to) == []
        assert await world.queued(message_id, 2) is not None


class TestBounces:
    async def test_550_5_1_1_bounces_hard_and_suppresses(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("gone")
        world.mx.script(to, "550 5.1.1 User unknown")
        message_id = await world.message([to])
        assert await world.run(message_id) == "delivered=0 deferred=0 bounced=1 blocked=0"
        row = await world.row(message_id)
        assert (row.status, row.error_message, row.next_attempt_at) == ("bounced", "550 5.1.1 User unknown", None)
        (event,) = await world.events(message_id)
        assert event.event_type == "bounce"
        assert event.data == {
            "reason": "550 5.1.1 User unknown",
            "status": "5.1.1",
            "bounce_type": "hard",
            "bounce_classification": "Invalid Address",
            "mx": "mx.rcpt.example.test",
            "attempt": 1,
        }
        (entry,) = await world.bounce_list(to)
        assert (entry.bounce_type, entry.reason, entry.status, entry.message_id) == (
            "hard",
            "550 5.1.1 User unknown",
            "5.1.1",
            message_id,
        )
        assert await world.queued(message_id, 2) is None

    async def test_552_5_2_2_bounces_soft_without_suppression(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("full")
        world.mx.script(to, "552 5.2.2 Mailbox full")
        message_id = await world.message([to])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["bounce_type"], event.data["bounce_classification"]) == (
            "bounce",
            "soft",
            "Mailbox Unavailable",
        )
        assert (await world.row(message_id)).status == "bounced"
        assert await world.bounce_list(to) == []

    async def test_554_5_7_1_is_blocked_and_suppressed_as_block(self, world: DeliveryWorld) -> None:
        world.route("rcpt.example.test")
        to = address("blocked")
        world.mx.script(to, AtData("554 5.7.1 Message rejected due to content"))
        message_id = await world.message([to])
        assert await world.run(message_id) == "delivered=0 deferred=0 bounced=0 blocked=1"
        (event,) = await world.events(message_id)
        assert (
            event.event_type,
            event.data["bounce_type"],
            event.data["bounce_classification"],
            event.data["reason"],
        ) == ("blocked", "block", "Content", "554 5.7.1 Message rejected due to content")
        (entry,) = await world.bounce_list(to)
        assert (entry.bounce_type, entry.status) == ("block", "5.7.1")
        assert (await world.row(message_id)).status == "bounced"

    async def test_mixed_recipients_retry_only_the_deferred_one(self, world: DeliveryWorld) -> None:
        world.route("one.example.test")
        world.route("two.example.test")
        ok, gone, later = (
            address("ok", "one.example.test"),
            address("gone", "one.example.test"),
            address("later", "two.example.test"),
        )
        world.mx.script(gone, "550 5.1.1 User unknown")
        world.mx.script(later, "421 4.3.2 System shutting down", "250 2.1.5 OK")
        message_id = await world.message([ok, gone], cc=[later])
        await world.run(message_id)
        assert (await world.row(message_id)).status == "rendered"
        queued = await world.queued(message_id, 2)
        assert queued is not None
        world.clock.advance(timedelta(minutes=6))
        await world.run(*queued[1])
        row = await world.row(message_id)
        assert row.status == "delivered"
        assert row.error_message == "1 of 3 recipients not delivered: 550 5.1.1 User unknown"
        assert (len(world.mx.mailbox(ok)), world.mx.attempts(gone), world.mx.attempts(later)) == (1, 1, 2)
        events = [(e.event_type, e.recipient_email, e.data["attempt"]) for e in await world.events(message_id)]
        assert sorted(events) == sorted(
            [("delivered", ok, 1), ("bounce", gone, 1), ("deferred", later, 1), ("delivered", later, 2)]
        )
