"""Circuit breaking per MX host (issue 14 item 7): a host answering 421 to everything, or hanging, is left alone for a
while after five failures in a row: its recipients are deferred at once without a connection (retried per D10), other
destinations are delivered as usual, and after the open period one probe decides. Real MX, DNS, MariaDB and Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from scaisend.delivery.circuit_breaker import OPEN_FOR, THRESHOLD
from tests.factories.delivery import DeliveryWorld, Sender, make_sender, open_world
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX, Slow


@pytest.fixture(scope="module")
async def sender(app: FastAPI) -> Sender:
    return await make_sender(app.state.resources.maker, app.state.resources.settings)


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender, SMTP_TIMEOUT="1s") as w:
        w.route("bad.example.test", "mx.bad.example.test")
        w.route("good.example.test", "mx.good.example.test")
        yield w


def bad() -> str:
    return f"b{uuid.uuid4().hex[:8]}@bad.example.test"


def good() -> str:
    return f"g{uuid.uuid4().hex[:8]}@good.example.test"


async def deliver(world: DeliveryWorld, to: str) -> tuple[str, str]:
    """Run attempt 1 of a message to ``to``; (status, last response) as ``/v3/messages`` shows them."""
    message_id = await world.message([to])
    await world.run(message_id)
    row = await world.row(message_id)
    return row.status, row.last_response or ""


class TestFourTwentyOneToEverything:
    async def test_opens_after_five_failures_and_other_destinations_still_deliver(
        self, world: DeliveryWorld, mx: ScriptableMX
    ) -> None:
        for _ in range(THRESHOLD):
            to = bad()
            mx.script(to, "421 4.7.0 Try again later")
            assert await deliver(world, to) == ("rendered", "421 4.7.0 Try again later")  # deferred, retry queued

        skipped = bad()
        mx.script(skipped, "421 4.7.0 Try again later")
        status, reason = await deliver(world, skipped)
        assert status == "rendered"
        assert reason.startswith("451 4.4.1 MX host mx.bad.example.test keeps failing")
        assert mx.attempts(skipped) == 0  # not even connected

        fine = good()
        assert (await deliver(world, fine))[0] == "delivered"
        assert len(mx.mailbox(fine)) == 1

    async def test_one_probe_after_the_open_period_closes_it_when_the_host_is_back(
        self, world: DeliveryWorld, mx: ScriptableMX
    ) -> None:
        for _ in range(THRESHOLD):
            to = bad()
            mx.script(to, "421 4.7.0 Try again later")
            await deliver(world, to)
        world.clock.advance(OPEN_FOR + OPEN_FOR / 10)
        recovered = bad()  # the host accepts again
        assert (await deliver(world, recovered))[0] == "delivered"
        after = bad()
        assert (await deliver(world, after))[0] == "delivered"


class TestHangingHost:
    async def test_a_host_that_never_answers_stops_costing_the_timeout(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender
    ) -> None:
        async with open_world(app, dns, mx, sender=sender, SMTP_TIMEOUT="5s") as world:
            world.route("bad.example.test", "mx.bad.example.test")
            world.route("good.example.test", "mx.good.example.test")
            hanging = [bad() for _ in range(THRESHOLD)]
            for to in hanging:
                mx.script(to, Slow(8))  # longer than SMTP_TIMEOUT
            await asyncio.gather(*(deliver(world, to) for to in hanging))  # five connections time out together

            started = time.monotonic()
            results = await asyncio.gather(*(deliver(world, bad()) for _ in range(5)), deliver(world, good()))
            assert time.monotonic() - started < 4.0  # none of them waited for the hanging host (5 s each)
            assert [status for status, _ in results] == ["rendered"] * 5 + ["delivered"]
            assert all("keeps failing" in reason for _, reason in results[:5])
