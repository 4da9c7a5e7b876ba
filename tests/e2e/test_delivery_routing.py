"""Stage 3 end to end: where mail goes and how (RFC 5321 §5.1, RFC 7505, D10, D13): null MX, implicit MX, DNS
failures, MX fallback, the relay host, opportunistic and required TLS."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from scaisend.delivery.tls_policy import TlsPlan
from tests.factories.delivery import DeliveryWorld, Sender, dkim_verifies, make_sender, open_world
from tests.harness.dns import LoopbackDNS
from tests.harness.fixtures_net import MXFactory
from tests.harness.mx import ScriptableMX


@pytest.fixture(scope="module")
async def sender(app: FastAPI) -> Sender:
    return await make_sender(app.state.resources.maker, app.state.resources.settings)


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender) as w:
        yield w


def address(domain: str) -> str:
    return f"r{uuid.uuid4().hex[:8]}@{domain}"


class TestDnsOutcomes:
    async def test_null_mx_bounces_at_once_without_connecting(self, world: DeliveryWorld) -> None:
        world.dns.add_null_mx("nomail.example.test")
        to = address("nomail.example.test")
        message_id = await world.message([to])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (
            event.event_type,
            event.data["status"],
            event.data["bounce_type"],
            event.data["bounce_classification"],
        ) == ("bounce", "5.1.10", "hard", "Invalid Address")
        assert event.data["reason"].startswith("550 5.1.10 Recipient address has null MX")
        assert (await world.row(message_id)).status == "bounced"
        assert len(await world.bounce_list(to)) == 1
        assert world.mx.connections == 0

    async def test_no_mx_but_an_address_record_is_an_implicit_mx(self, world: DeliveryWorld) -> None:
        world.dns.add_a("implicit.example.test", "127.0.0.1")
        to = address("implicit.example.test")
        message_id = await world.message([to])
        await world.run(message_id)
        assert len(world.mx.mailbox(to)) == 1
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["mx"]) == ("delivered", "implicit.example.test")

    async def test_nxdomain_bounces_hard(self, world: DeliveryWorld) -> None:
        message_id = await world.message([address("missing.example.test")])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["status"], event.data["bounce_type"]) == ("bounce", "5.1.2", "hard")

    async def test_servfail_defers(self, world: DeliveryWorld) -> None:
        world.dns.add_servfail("flaky.example.test")
        message_id = await world.message([address("flaky.example.test")])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["status"]) == ("deferred", "4.4.3")
        assert await world.queued(message_id, 2) is not None


class TestHosts:
    async def test_unreachable_first_mx_falls_back_to_the_next(self, world: DeliveryWorld) -> None:
        world.route("two.example.test", "mx1.two.example.test", ip="127.0.0.2", preference=10)  # nothing listens
        world.route("two.example.test", "mx2.two.example.test", preference=20)
        to = address("two.example.test")
        message_id = await world.message([to])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert (event.event_type, event.data["mx"]) == ("delivered", "mx2.two.example.test")

    async def test_no_reachable_mx_defers_with_the_last_failure(self, world: DeliveryWorld) -> None:
        world.route("down.example.test", ip="127.0.0.2")
        message_id = await world.message([address("down.example.test")])
        await world.run(message_id)
        (event,) = await world.events(message_id)
        assert event.event_type == "deferred"
        assert event.data["response"].startswith("451 4.4.1 Connection refused: mx.down.example.test [127.0.0.2]")

    async def test_relay_host_takes_everything_without_dns(
        self, app: FastAPI, dns: LoopbackDNS, mx_factory: MXFactory, sender: Sender
    ) -> None:
        relay = await mx_factory()
        async with open_world(
            app, dns, relay, sender=sender, SMTP_RELAY_HOST=f"127.0.0.1:{relay.port}", SMTP_PORT=1
        ) as world:
            to = address("anywhere.example.test")
            message_id = await world.message([to])
            await world.run(message_id)
            assert len(relay.mailbox(to)) == 1
            assert ("anywhere.example.test", "MX") not in dns.queries


class TestTls:
    async def test_starttls_is_used_when_offered(
        self, app: FastAPI, dns: LoopbackDNS, mx_factory: MXFactory, sender: Sender
    ) -> None:
        server = await mx_factory(tls=True)
        async with open_world(app, dns, server, sender=sender) as world:
            world.route("tls.example.test")
            to = address("tls.example.test")
            message_id = await world.message([to])
            await world.run(message_id)
            (received,) = server.mailbox(to)
            assert received.session.tls
            assert dkim_verifies(received.data, dns)
            (event,) = await world.events(message_id)
            assert event.data["tls"] is True

    async def test_broken_starttls_falls_back_to_plaintext_and_delivers(
        self, app: FastAPI, dns: LoopbackDNS, mx_factory: MXFactory, sender: Sender
    ) -> None:
        server = await mx_factory(broken_tls=True)
        async with open_world(app, dns, server, sender=sender) as world:
            world.route("brokentls.example.test")
            first, second = address("brokentls.example.test"), address("brokentls.example.test")
            for to in (first, second):
                await world.run(await world.message([to]))
            assert server.mailbox(first)
            assert server.mailbox(second)
            assert [s.starttls_attempted for s in server.sessions] == [True, False]  # then reused, no new attempt
            assert world.runtime.tls.plan("mx.brokentls.example.test") is TlsPlan.PLAINTEXT

    async def test_required_tls_defers_when_the_mx_has_none(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender
    ) -> None:
        async with open_world(app, dns, mx, sender=sender, SMTP_TLS_POLICY="required") as world:
            world.route("plain.example.test")
            message_id = await world.message([address("plain.example.test")])
            await world.run(message_id)
            (event,) = await world.events(message_id)
            assert (event.event_type, event.data["status"]) == ("deferred", "4.7.10")
            assert mx.messages == []

    async def test_required_tls_delivers_over_a_verified_certificate(
        self, app: FastAPI, dns: LoopbackDNS, mx_factory: MXFactory, sender: Sender
    ) -> None:
        server = await mx_factory(tls=True, hostname="mx.secure.example.test")
        assert server.cert_path is not None
        trusted = ssl.create_default_context(cafile=str(server.cert_path))
        async with open_world(
            app, dns, server, sender=sender, SMTP_TLS_POLICY="required", verified_context=trusted
        ) as world:
            world.route("secure.example.test")
            to = address("secure.example.test")
            message_id = await world.message([to])
            await world.run(message_id)
            assert server.mailbox(to)[0].session.tls
            assert (await world.row(message_id)).status == "delivered"
