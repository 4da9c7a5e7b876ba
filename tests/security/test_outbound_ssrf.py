"""Issue 9, finding 6 (D42): a recipient domain whose MX (or implicit MX) resolves to loopback, private, link-local /
metadata or an IPv6 form of them is not delivered to: the recipient is deferred with the reason, and nothing connects.
The real delivery job, the loopback DNS server and the scriptable MX on 127.0.0.1 (which, before D42, received the
mail). A webhook URL naming the metadata address through NAT64, 6to4, IPv4-compatible or site-local IPv6 forms (and a
name that resolves to one) is refused through the API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from tests.factories.delivery import DeliveryWorld, open_world
from tests.factories.tenants import make_tenant
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, SMTP_ALLOW_PRIVATE_TARGETS=False) as w:
        yield w


def domain() -> str:
    return f"d{uuid.uuid4().hex[:8]}.example.test"


async def deferred_reason(world: DeliveryWorld, to: str) -> str:
    message_id = await world.message([to])
    assert await world.run(message_id) == "delivered=0 deferred=1 bounced=0 blocked=0"
    (event,) = await world.events(message_id)
    assert event.event_type == "deferred"
    assert await world.queued(message_id, 2) is not None  # retried later; DNS may change, nothing is suppressed
    return str(event.data["response"])


async def test_an_mx_on_loopback_receives_nothing(world: DeliveryWorld) -> None:
    name = domain()
    world.route(name)  # MX mx.<name> → 127.0.0.1, where the scriptable MX listens
    reason = await deferred_reason(world, f"victim@{name}")
    assert reason == (
        f"451 4.4.4 MX host mx.{name} resolves only to non-public addresses (127.0.0.1: loopback); "
        "not delivered there (SMTP_ALLOW_PRIVATE_TARGETS)"
    )
    assert world.mx.sessions == []


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("10.0.0.7", "private network"),
        ("64:ff9b::a9fe:a9fe", "NAT64"),
        ("::ffff:7f00:1", "loopback"),  # IPv4-mapped 127.0.0.1
    ],
)
async def test_an_implicit_mx_on_a_private_or_metadata_address_is_refused(
    world: DeliveryWorld, ip: str, reason: str
) -> None:
    name = domain()  # no MX: the domain's own address record is its implicit MX (RFC 5321 §5.1)
    if ":" in ip:
        world.dns.add_aaaa(name, ip)
    else:
        world.dns.add_a(name, ip)
    shown = "::ffff:127.0.0.1" if ip == "::ffff:7f00:1" else ip  # as the resolver spells it
    assert f"({shown}: {reason})" in await deferred_reason(world, f"victim@{name}")


async def test_the_relay_host_is_configuration_and_is_not_checked(
    app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX
) -> None:
    async with open_world(app, dns, mx, SMTP_ALLOW_PRIVATE_TARGETS=False, SMTP_RELAY_HOST=f"127.0.0.1:{mx.port}") as w:
        to = f"someone@{domain()}"
        message_id = await w.message([to])
        assert await w.run(message_id) == "delivered=1 deferred=0 bounced=0 blocked=0"
        assert len(w.mx.mailbox(to)) == 1


async def test_the_setting_allows_private_targets(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX) -> None:
    async with open_world(app, dns, mx, SMTP_ALLOW_PRIVATE_TARGETS=True) as w:
        name = domain()
        w.route(name)
        message_id = await w.message([f"someone@{name}"])
        assert await w.run(message_id) == "delivered=1 deferred=0 bounced=0 blocked=0"


@pytest.fixture
async def guarded(app: FastAPI, dns: LoopbackDNS) -> AsyncIterator[httpx.AsyncClient]:
    """The API as deployed: webhook targets on private networks refused (the harness allows them)."""
    base = app.state.resources.settings
    settings = base.model_copy(
        update={"WEBHOOK_ALLOW_PRIVATE_NETWORKS": False, "DNS_NAMESERVERS": dns.nameserver_setting}
    )
    application = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as http:
            yield http
    finally:
        await application.state.resources.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of 169.254.169.254
        "http://[64:ff9b:1::a9fe:a9fe]/",  # local-use NAT64
        "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
        "http://[::a9fe:a9fe]/",  # IPv4-compatible
        "http://[fec0::1]/",  # site-local
        "http://[::ffff:127.0.0.1]:8000/v3/api_keys",  # IPv4-mapped loopback
        "http://nat64-metadata.example.test/",  # a name whose AAAA is the NAT64 form
    ],
)
async def test_webhook_urls_reaching_internal_addresses_are_refused(
    app: FastAPI, guarded: httpx.AsyncClient, dns: LoopbackDNS, url: str
) -> None:
    dns.add_aaaa("nat64-metadata.example.test", "64:ff9b::a9fe:a9fe")
    owner = await make_tenant(app.state.resources.maker)
    response = await guarded.post(
        "/v3/user/webhooks", headers=owner.headers, json={"url": url, "enabled_events": ["*"]}
    )
    assert response.status_code == 400, response.text[:300]
    assert response.json()["detail"].startswith("Webhook URL points at a non-public address")
    listed = await guarded.get("/v3/user/webhooks", headers=owner.headers)
    assert listed.json()["total"] == 0
