"""Redis emptied while the processes run (issue 14 item 3, D75): the queues are rebuilt from the database within a
minute, without restarting anything. A Redis of the test's own (``FLUSHALL`` on the shared one would hurt the other
tests), the real API, worker and SMTP processes, the scriptable MX and a webhook receiver.

1. SMTP service stopped (SIGSTOP): batch A is composed, its delivery jobs wait in ``smtp:deliver``.
2. worker stopped too: batch B is accepted, its compose jobs wait in ``email:process``.
3. ``FLUSHALL``; the SMTP service goes on: A is delivered (its jobs rebuilt), its ``delivered`` events' webhook
   deliveries wait in ``webhook:deliver`` for the stopped worker.
4. ``FLUSHALL`` again; the worker goes on: B is composed and delivered and every event reaches the webhook receiver.
Every message reaches the MX exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from scaisend.db.session import unit_of_work
from scaisend.models import EmailEvent, Message
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.own_redis import AofRedis
from tests.harness.stack_world import World, stack_world

pytestmark = pytest.mark.timeout(400)

DOMAIN = "inbox.rebuild.test"
BATCH = 8
RECOVERY_TARGET = 60.0  # seconds from Redis emptied to the work done (issue 14)


@pytest.fixture
async def world(
    own_database: OwnDatabase, dns_server: LoopbackDNS, tmp_path: Path, own_redis: AofRedis
) -> AsyncIterator[World]:
    async with stack_world(own_database, dns_server, tmp_path, DOMAIN, lambda mx: None, REDIS_URL=own_redis.url) as w:
        yield w


async def statuses(world: World, own_database: OwnDatabase) -> dict[str, int]:
    async with unit_of_work(own_database.maker) as session:
        rows = await session.execute(
            select(Message.status, func.count())
            .where(Message.tenant_id == world.sender.tenant_id)
            .group_by(Message.status)
        )
        return {status: n for status, n in rows.all()}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str, world: World) -> float:
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < timeout, f"{what} not within {timeout}s\n{world.stack.trouble()}"
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def send(api: httpx.AsyncClient, world: World, batch: str) -> None:
    body = {
        "personalizations": [{"to": [{"email": f"{batch}{i}@{DOMAIN}"}]} for i in range(BATCH)],
        "from": {"email": world.sender.address},
        "subject": f"rebuild {batch}",
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    response = await api.post("/v3/mail/send", json=body)
    assert response.status_code == 202, response.text


def pause(world: World, name: str, sig: signal.Signals) -> None:
    os.kill(world.stack.procs[name].pid, sig)


async def test_queues_rebuilt_after_redis_flush_without_a_restart(
    world: World, own_database: OwnDatabase, own_redis: AofRedis, record_property: pytest.RecordProperty
) -> None:
    redis = Redis.from_url(own_redis.url)
    async with httpx.AsyncClient(base_url=world.stack.api, headers=world.key.headers, timeout=30) as api:
        hook = await api.post("/v3/user/webhooks", json={"url": world.receiver.url("/all"), "enabled_events": ["*"]})
        assert hook.status_code == 201, hook.text
        try:
            pause(world, "smtp", signal.SIGSTOP)
            await send(api, world, "a")

            async def a_rendered() -> bool:
                return (await statuses(world, own_database)).get("rendered", 0) == BATCH

            await eventually(a_rendered, 60, "batch A composed", world)
            await asyncio.sleep(2)  # the worker's webhook jobs of A's processed events
            pause(world, "worker", signal.SIGSTOP)
            await send(api, world, "b")
            assert (await statuses(world, own_database)) == {"rendered": BATCH, "queued": BATCH}

            await redis.flushall()
            pause(world, "smtp", signal.SIGCONT)

            async def a_delivered() -> bool:
                return (await statuses(world, own_database)).get("delivered", 0) == BATCH

            took_a = await eventually(a_delivered, 120, "batch A delivered after the flush", world)

            await asyncio.sleep(1)  # the delivered events' webhook jobs are queued for the stopped worker
            await redis.flushall()
            pause(world, "worker", signal.SIGCONT)

            async def all_delivered() -> bool:
                return (await statuses(world, own_database)) == {"delivered": 2 * BATCH}

            took_b = await eventually(all_delivered, 120, "batch B delivered after the second flush", world)
            async with unit_of_work(own_database.maker) as session:
                event_ids = set(
                    await session.scalars(
                        select(EmailEvent.event_id).where(EmailEvent.tenant_id == world.sender.tenant_id)
                    )
                )
            assert len(event_ids) >= 4 * BATCH  # processed and delivered for each message

            async def webhooks_done() -> bool:
                return {json.loads(post.body)["event_id"] for post in world.receiver.posts("/all")} >= event_ids

            took_hooks = await eventually(webhooks_done, 120, "every event at the webhook receiver", world)
        finally:
            for name in ("smtp", "worker"):
                if world.stack.procs[name].poll() is None:
                    pause(world, name, signal.SIGCONT)
            await redis.aclose()

    for batch in "ab":
        for i in range(BATCH):
            assert len(world.mx.mailbox(f"{batch}{i}@{DOMAIN}")) == 1, f"{batch}{i} delivered more or less than once"
    record_property("flush_to_delivered_seconds", round(max(took_a, took_b), 1))
    print(
        f"\nRedis flushed: deliveries rebuilt in {took_a:.1f}s, compose in {took_b:.1f}s, webhooks +{took_hooks:.1f}s"
    )
    assert took_a < RECOVERY_TARGET, world.stack.trouble()
    assert took_b + took_hooks < RECOVERY_TARGET, world.stack.trouble()
    assert "Redis lost its queues" in world.stack.log("smtp")
    assert "Redis lost its queues" in world.stack.log("worker")
