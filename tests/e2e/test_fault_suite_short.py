"""The short fault suite (issue 14; the long one is ``bench/faults.py``): a steady send load with a webhook endpoint
subscribed while the worker, the SMTP service and the API are each killed with SIGKILL at a random moment and started
again 2 s later, then Redis is killed and restarted on its append-only file. Then every accepted message reached the
MX (none lost; a second copy is counted, not failed: the journal window of docs/reliability.md), everything accepted
before each restore was at the MX within a minute of it, and every event reached the webhook at least once. Real
processes, a Redis of the test's own, the scriptable MX and a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.models import EmailEvent, WebhookDelivery
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.own_redis import AofRedis
from tests.harness.stack_world import World, stack_world

pytestmark = pytest.mark.timeout(900)

DOMAIN = "inbox.faults.test"
RATE = 1.5  # sends per second: below what the pipeline does on a busy 2-core machine (D77)
RECOVERY_TARGET = 60.0  # seconds from a restore until everything accepted before it is at the MX (issue 14)


@pytest.fixture
async def world(
    own_database: OwnDatabase, dns_server: LoopbackDNS, tmp_path: Path, own_redis: AofRedis
) -> AsyncIterator[World]:
    async with stack_world(
        own_database, dns_server, tmp_path, DOMAIN, lambda mx: None, REDIS_URL=own_redis.url, SMTP_TIMEOUT="10s"
    ) as running:
        yield running


class Load:
    """One single-recipient send every 1/RATE s until stopped; the 202s' message ids by recipient."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.accepted: dict[str, str] = {}  # recipient -> message id
        self.refused = 0
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        sender = self.world.sender.address
        async with httpx.AsyncClient(base_url=self.world.stack.api, headers=self.world.key.headers, timeout=10) as api:
            i = 0
            while not self.stopped.is_set():
                to = f"m{i}@{DOMAIN}"
                i += 1
                body = {
                    "personalizations": [{"to": [{"email": to}]}],
                    "from": {"email": sender},
                    "subject": "faults",
                    "content": [{"type": "text/plain", "value": "Hello"}],
                }
                try:
                    response = await api.post("/v3/mail/send", json=body)
                except httpx.HTTPError:
                    self.refused += 1
                else:
                    if response.status_code == 202:
                        self.accepted[to] = response.headers["X-Message-Id"]
                    else:
                        self.refused += 1
                await asyncio.sleep(1 / RATE)

    def at_mx(self) -> dict[str, int]:
        return {to: len(self.world.mx.mailbox(to)) for to in self.accepted}


async def all_at_mx(load: Load, recipients: set[str], timeout: float) -> float | None:
    started = time.monotonic()
    while True:
        arrived = {to for to, n in load.at_mx().items() if n}
        if recipients <= arrived:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        await asyncio.sleep(0.5)


async def test_kills_and_a_redis_restart_lose_nothing(
    world: World,
    own_database: OwnDatabase,
    own_redis: AofRedis,
    record_property: pytest.RecordProperty,
) -> None:
    async with httpx.AsyncClient(base_url=world.stack.api, headers=world.key.headers, timeout=30) as api:
        hook = await api.post("/v3/user/webhooks", json={"url": world.receiver.url("/all"), "enabled_events": ["*"]})
        assert hook.status_code == 201, hook.text
    load = Load(world)
    sending = asyncio.create_task(load.run())
    recovery: dict[str, float | None] = {}
    try:
        await asyncio.sleep(5)
        for fault in ("worker", "smtp", "api", "redis"):
            await asyncio.sleep(random.uniform(0, 3))
            if fault == "redis":
                own_redis.kill()
                await asyncio.sleep(2)
                await asyncio.to_thread(own_redis.start, 30)
            else:
                world.stack.kill(fault)
                await asyncio.sleep(2)
                await asyncio.to_thread(world.stack.start_one, fault)
            before = set(load.accepted)
            recovery[fault] = await all_at_mx(load, before, RECOVERY_TARGET + 60)
            print(f"\n{fault} killed and restarted: everything accepted before at the MX {recovery[fault]}s later")
    finally:
        load.stopped.set()
        await sending

    everything = set(load.accepted)
    drained = await all_at_mx(load, everything, 120)
    counts = load.at_mx()
    lost = sorted(to for to, n in counts.items() if n == 0)
    twice = sorted(to for to, n in counts.items() if n > 1)

    async with unit_of_work(own_database.maker) as session:
        event_ids = set(
            await session.scalars(select(EmailEvent.event_id).where(EmailEvent.tenant_id == world.sender.tenant_id))
        )
    deadline = time.monotonic() + 120
    while not event_ids <= (hooked := {json.loads(p.body)["event_id"] for p in world.receiver.posts("/all")}):
        if time.monotonic() > deadline:
            async with unit_of_work(own_database.maker) as session:
                unfinished = (
                    await session.execute(
                        select(
                            WebhookDelivery.event_ids,
                            WebhookDelivery.status,
                            WebhookDelivery.attempts,
                            WebhookDelivery.next_attempt_at,
                            WebhookDelivery.updated_at,
                        ).where(
                            WebhookDelivery.tenant_id == world.sender.tenant_id, WebhookDelivery.status != "succeeded"
                        )
                    )
                ).all()
            pytest.fail(f"{sorted(event_ids - hooked)} never reached the webhook; unfinished deliveries {unfinished}")
        await asyncio.sleep(0.5)

    for fault, took in recovery.items():
        record_property(f"{fault}_recovery_seconds", None if took is None else round(took, 1))
    record_property("accepted", len(everything))
    record_property("delivered_twice", len(twice))
    print(f"\naccepted {len(everything)}, refused {load.refused}, lost {len(lost)}, twice {len(twice)}; {recovery}")
    assert len(everything) > 40
    assert not lost, f"lost {lost[:10]}\n{world.stack.trouble()}"
    assert drained is not None
    assert all(took is not None and took < RECOVERY_TARGET for took in recovery.values()), (
        f"{recovery}\n{world.stack.trouble()}"
    )
