"""Issue 12, "one request followed through every log line": one send of three messages through the real API, worker
and SMTP processes (a delivery, a deferral delivered on retry, a hard bounce, a DSN after delivery, a webhook endpoint
for every event). Then every line of the three services' logs that names one of the send's message ids also names
its request id, its tenant and the caller's trace; the delivery, job, inbound and webhook lines are there; the
webhook POSTs carry the request id and the trace; and ``/v3/messages`` shows and filters by the request id."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
from sqlalchemy import select

from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.db.session import unit_of_work
from scaisend.logs import trace_id_of
from scaisend.models import Message
from tests.factories.delivery import Sender, make_sender
from tests.factories.tenants import TenantKey, make_key
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.json_logs import parse_lines
from tests.harness.mx import ScriptableMX
from tests.harness.stack import Stack, start_stack
from tests.harness.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.timeout(420)

DOMAIN = "inbox.correlation.test"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TRACE = "0af7651916cd43dd8448eb211c80319c"
OK, SLOW, HARD = f"ok@{DOMAIN}", f"slow@{DOMAIN}", f"hard@{DOMAIN}"
FOLLOWED = ("api", "worker", "smtp")


@dataclass
class World:
    stack: Stack
    mx: ScriptableMX
    sender: Sender
    key: TenantKey
    receiver: WebhookReceiver


@pytest.fixture
async def world(own_database: OwnDatabase, dns_server: LoopbackDNS, tmp_path: Path) -> AsyncIterator[World]:
    mx = ScriptableMX()
    await mx.start()
    mx.script(SLOW, "451 4.7.1 Greylisted, try again later", "250 2.0.0 OK")
    mx.script(HARD, "550 5.1.1 User unknown")
    dns_server.add_mx(DOMAIN, f"mx.{DOMAIN}", ip="127.0.0.1")
    database, maker = own_database.settings, own_database.maker
    sender = await make_sender(maker, database)
    sender.publish(dns_server)
    key = await make_key(maker, sender.tenant_id, sorted(SCOPE_NAMES))
    settings = database.model_copy(
        update={
            "DNS_NAMESERVERS": dns_server.nameserver_setting,
            "SMTP_PORT": mx.port,
            "SMTP_RETRY_SCHEDULE": "1s",
            "REDIS_QUEUE_PREFIX": f"{database.REDIS_QUEUE_PREFIX}rc{uuid.uuid4().hex[:6]}:",
        }
    )
    receiver = WebhookReceiver().start()
    stack = await asyncio.to_thread(start_stack, settings, tmp_path)
    try:
        yield World(stack, mx, sender, key, receiver)
    finally:
        await asyncio.to_thread(stack.stop)
        receiver.stop()
        await mx.stop()
        dns_server.remove(DOMAIN)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout}s\n{stack.trouble()}")
        await asyncio.sleep(0.5)


async def dsn_after_delivery(world: World, recipient: str) -> None:
    """A Postfix DSN for the message ``recipient`` received, to the SMTP service's inbound listener."""
    (received,) = world.mx.mailbox(recipient)
    message_id = received.message["X-ScaiSend-Message-Id"]
    settings = world.stack.settings
    raw = (FIXTURES / "dsn/postfix_user_unknown.eml").read_bytes()
    for placeholder, value in (
        (b"@@MESSAGE_ID@@", message_id),
        (b"@@RECIPIENT@@", recipient),
        (b"@@BOUNCE_DOMAIN@@", settings.BOUNCE_DOMAIN),
    ):
        raw = raw.replace(placeholder, value.encode())
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.SMTP_INBOUND_PORT, start_tls=False) as smtp:
        await smtp.sendmail("", [f"bounces+{message_id}@{settings.BOUNCE_DOMAIN}"], raw)


def mentions(line: dict[str, Any], ids: list[str]) -> bool:
    text = json.dumps(line)
    return any(message_id in text for message_id in ids)


async def test_one_send_followed_through_every_process(world: World, own_database: OwnDatabase) -> None:
    request_id = f"order-{uuid.uuid4().hex[:12]}"
    tenant = world.sender.tenant_id
    async with httpx.AsyncClient(base_url=world.stack.api, headers=world.key.headers, timeout=30) as api:
        hook = await api.post("/v3/user/webhooks", json={"url": world.receiver.url("/all"), "enabled_events": ["*"]})
        assert hook.status_code == 201, hook.text
        response = await api.post(
            "/v3/mail/send",
            headers={"X-Request-ID": request_id, "traceparent": f"00-{TRACE}-b7ad6b7169203331-01"},
            json={
                "personalizations": [{"to": [{"email": r}]} for r in (OK, SLOW, HARD)],
                "from": {"email": world.sender.address},
                "subject": "Followed",
                "content": [{"type": "text/plain", "value": "Hello"}],
            },
        )
        assert response.status_code == 202, response.text
        assert response.headers["x-request-id"] == request_id
        ids = response.json()["message_ids"]

        async def final() -> bool:
            async with unit_of_work(own_database.maker) as session:
                rows = await session.scalars(select(Message.status).where(Message.id.in_(ids)))
                return sorted(rows) == ["bounced", "delivered", "delivered"]

        await eventually(final, 90, "the three messages final", world.stack)
        await dsn_after_delivery(world, OK)
        # processed ×3, deferred, delivered ×2 and the bounce (the DSN's bounce waits for the webhook sweep)
        await eventually(lambda: _posts_at_least(world, 7), 60, "the webhook POSTs", world.stack)

        listed = (await api.get("/v3/messages", params={"request_id": request_id})).json()
        assert sorted(m["id"] for m in listed["messages"]) == sorted(ids)
        assert {m["request_id"] for m in listed["messages"]} == {request_id}

    await asyncio.to_thread(world.stack.stop)  # every line flushed
    lines = {name: parse_lines(world.stack.log(name)) for name in FOLLOWED}

    naming = {name: [line for line in found if mentions(line, ids)] for name, found in lines.items()}
    for name in FOLLOWED:
        assert naming[name], f"no {name} line names the send's messages"
        for line in naming[name]:
            assert line.get("request_id") == request_id, (name, line)
            assert line.get("tenant_id") == tenant, (name, line)
            # the caller's trace where the line descends from its request; a DSN starts a chain of its own
            assert line.get("trace_id") in (TRACE, None), (name, line)

    [accepted] = [line for line in lines["api"] if line["message"] == "send accepted"]
    assert accepted["message_ids"] == ids
    assert accepted["trace_id"] == TRACE
    traced = [
        r for r in naming["worker"] + naming["smtp"] if r.get("job_function") in ("process_email", "deliver_message")
    ]
    assert traced
    assert {r.get("trace_id") for r in traced} == {TRACE}

    worker_jobs = {(r["message"], r["job_function"], r["message_id"]) for r in naming["worker"] if "job_function" in r}
    for message_id in ids:
        assert ("job started", "process_email", message_id) in worker_jobs
        assert ("job finished", "process_email", message_id) in worker_jobs
    assert {r["message_id"] for r in naming["worker"] if r["message"] == "webhook attempt"} == set(ids)
    assert not [r for r in lines["worker"] + lines["smtp"] if r.get("logger") == "arq.worker" and "→" in r["message"]]

    results = [r for r in naming["smtp"] if r["message"] == "delivery result"]
    slow_id = ids[1]
    assert [(r["attempt"], r["outcome"], r["reply_code"]) for r in results if r["message_id"] == slow_id] == [
        (1, "deferred", 451),
        (2, "delivered", 250),
    ]
    assert {r["mx_host"] for r in results} == {f"mx.{DOMAIN}"}
    assert {r["recipient_domain"] for r in results} == {DOMAIN}
    hard = next(r for r in results if r["message_id"] == ids[2])
    assert (hard["outcome"], hard["enhanced_status"], hard["bounce_type"]) == ("bounced", "5.1.1", "hard")
    [inbound] = [r for r in naming["smtp"] if r["message"] == "inbound report"]
    assert (inbound["message_id"], inbound["outcome"]) == (ids[0], "parsed")
    recorded = {
        (r["event_type"], r["message_id"])
        for name in FOLLOWED
        for r in naming[name]
        if r["message"] == "event recorded"
    }
    assert ("delivered", ids[0]) in recorded
    assert ("deferred", slow_id) in recorded
    assert ("bounce", ids[2]) in recorded

    posts = world.receiver.posts("/all")
    assert {p.headers["X-Request-Id"] for p in posts} == {request_id}
    assert {trace_id_of(p.headers["traceparent"]) for p in posts if "traceparent" in p.headers} == {TRACE}
    assert {p.json()["message_id"] for p in posts} == set(ids)


async def _posts_at_least(world: World, count: int) -> bool:
    return len(world.receiver.posts("/all")) >= count
