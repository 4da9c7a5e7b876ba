"""Issue "Events, webhooks, …", the done-when scenario: 200 messages through the real API, worker and SMTP
processes to the scriptable MX with a known mix (delivered, hard bounce, block, deferred-then-delivered, suppressed,
opened, clicked, unsubscribed, DSN bounce after delivery, ARF complaint). Then every event reaches each subscribed
endpoint with a valid signature (deduplicable by event_id), the suppression lists hold exactly the right addresses,
and ``/v3/stats`` equals the counts from the events, before and after ``POST /v3/stats/rebuild``."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.db.session import unit_of_work
from scaisend.events.types import EventType
from scaisend.models import STAT_METRICS, EmailEvent, Message
from scaisend.stats.counters import metrics_for
from scaisend.webhooks.signing import verify_signature
from tests.factories.delivery import Sender, make_sender
from tests.factories.tenants import TenantKey, make_key
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX
from tests.harness.stack import Stack, start_stack
from tests.harness.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.timeout(300)

DOMAIN = "inbox.scenario.test"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MIX = {"ok": 120, "hard": 20, "block": 10, "slow": 20, "suppressed": 30}  # 200 messages, one recipient each
OPENED, CLICKED, UNSUBSCRIBED, DSN, ARF = range(0, 20), range(20, 30), range(30, 35), range(35, 40), range(40, 45)


def address(kind: str, i: int) -> str:
    return f"{kind}{i}@{DOMAIN}"


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
    for i in range(MIX["hard"]):
        mx.script(address("hard", i), "550 5.1.1 User unknown")
    for i in range(MIX["block"]):
        mx.script(address("block", i), "554 5.7.1 Message rejected due to content")
    for i in range(MIX["slow"]):
        mx.script(address("slow", i), "450 4.2.1 Mailbox busy, try later", "250 2.0.0 OK")
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
            "REDIS_QUEUE_PREFIX": f"{database.REDIS_QUEUE_PREFIX}ev{uuid.uuid4().hex[:6]}:",
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


async def eventually(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout}s")
        await asyncio.sleep(0.5)


async def tenant_events(maker: async_sessionmaker[AsyncSession], tenant_id: str) -> list[EmailEvent]:
    async with unit_of_work(maker) as session:
        return list(await session.scalars(select(EmailEvent).where(EmailEvent.tenant_id == tenant_id)))


async def statuses(maker: async_sessionmaker[AsyncSession], tenant_id: str) -> dict[str, int]:
    async with unit_of_work(maker) as session:
        rows = await session.execute(
            select(Message.status, func.count()).where(Message.tenant_id == tenant_id).group_by(Message.status)
        )
        return {status: n for status, n in rows.all()}


def links(mx: ScriptableMX, recipient: str) -> tuple[str, str, str]:
    """(open pixel URL, first click URL, List-Unsubscribe https URL) of the mail ``recipient`` received."""
    (received,) = mx.mailbox(recipient)
    html = next(p for p in received.message.walk() if p.get_content_type() == "text/html").get_content()
    pixel = re.search(r'src="([^"]+/t/o/[^"]+\.gif)"', html)
    click = re.search(r'href="([^"]+/t/c/[^"]+)"', html)
    unsubscribe = re.search(r"<(https?://[^>]+/t/u/[^>]+)>", received.message["List-Unsubscribe"])
    assert pixel is not None, html
    assert click is not None, html
    assert unsubscribe is not None, received.message["List-Unsubscribe"]
    return pixel.group(1), click.group(1).replace("&amp;", "&"), unsubscribe.group(1)


async def send_all(api: httpx.AsyncClient, sender: Sender) -> None:
    for i in range(MIX["suppressed"]):  # already on the bounce list: dropped
        response = await api.post(
            "/v3/suppression/bounces", json={"email": address("suppressed", i), "reason": "imported"}
        )
        assert response.status_code == 201, response.text
    recipients = [address(kind, i) for kind, count in MIX.items() for i in range(count)]
    for start in range(0, len(recipients), 50):
        body = {
            "personalizations": [{"to": [{"email": r}]} for r in recipients[start : start + 50]],
            "from": {"email": sender.address},
            "subject": "Scenario",
            "categories": ["scenario"],
            "content": [
                {
                    "type": "text/html",
                    "value": '<html><body><p>Hello</p><a href="https://shop.example/deal">deal</a></body></html>',
                }
            ],
            "tracking_settings": {"subscription_tracking": {"enable": True}},
        }
        response = await api.post("/v3/mail/send", json=body)
        assert response.status_code == 202, response.text


async def engage(world: World) -> None:
    """Opens (twice for some, to test uniqueness), clicks and one-click unsubscribes through the real API."""
    async with httpx.AsyncClient(timeout=20) as web:
        for i in [*OPENED, *OPENED[:5]]:
            pixel, _, _ = links(world.mx, address("ok", i))
            assert (await web.get(pixel)).status_code == 200
        for i in CLICKED:
            _, click, _ = links(world.mx, address("ok", i))
            assert (await web.get(click)).status_code == 302
        for i in UNSUBSCRIBED:
            _, _, unsubscribe = links(world.mx, address("ok", i))
            response = await web.post(
                unsubscribe,
                content="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert response.status_code == 200


async def report(world: World, fixture: str, recipient: str, rcpt: str) -> None:
    """A DSN or complaint for the message ``recipient`` received, sent to the SMTP service's inbound listener."""
    (received,) = world.mx.mailbox(recipient)
    message_id = received.message["X-ScaiSend-Message-Id"]
    settings = world.stack.settings
    raw = (FIXTURES / fixture).read_bytes()
    for placeholder, value in (
        (b"@@VERP@@", received.mail_from),  # the signed return path the MX saw (D41)
        (b"@@MESSAGE_ID@@", message_id),
        (b"@@RECIPIENT@@", recipient),
        (b"@@BOUNCE_DOMAIN@@", settings.BOUNCE_DOMAIN),
        (b"@@FBL_ADDRESS@@", settings.fbl_address),
    ):
        raw = raw.replace(placeholder, value.encode())
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.SMTP_INBOUND_PORT, start_tls=False) as smtp:
        await smtp.sendmail("", [rcpt.replace("@@VERP@@", received.mail_from)], raw)


async def test_two_hundred_messages(world: World, own_database: OwnDatabase) -> None:
    maker = own_database.maker
    tenant = world.sender.tenant_id
    headers = world.key.headers
    async with httpx.AsyncClient(base_url=world.stack.api, headers=headers, timeout=30) as api:
        everything = (
            await api.post("/v3/user/webhooks", json={"url": world.receiver.url("/all"), "enabled_events": ["*"]})
        ).json()
        bounces_only = (
            await api.post(
                "/v3/user/webhooks", json={"url": world.receiver.url("/bounces"), "enabled_events": ["bounce"]}
            )
        ).json()
        await send_all(api, world.sender)

        async def pipeline_done() -> bool:
            counts = await statuses(maker, tenant)
            return sum(counts.values()) == 200 and not set(counts) & {"queued", "processing", "rendered", "sending"}

        await eventually(pipeline_done, 120, "every message final")
        assert await statuses(maker, tenant) == {"delivered": 140, "bounced": 30, "failed": 30}

        await engage(world)
        for i in DSN:
            await report(world, "dsn/postfix_user_unknown.eml", address("ok", i), "@@VERP@@")
        for i in ARF:
            await report(world, "arf/yahoo_style.eml", address("ok", i), world.stack.settings.fbl_address)

        events = await tenant_events(maker, tenant)
        kinds = Counter(e.event_type for e in events)
        assert kinds["delivered"] == 140
        assert kinds["bounce"] == 20 + len(DSN)
        assert kinds["blocked"] == 10
        assert kinds["dropped"] == 30
        assert kinds["processed"] == 170
        assert kinds["deferred"] >= 20
        assert kinds["open"] == len(OPENED) + 5
        assert kinds["click"] == len(CLICKED)
        assert kinds["unsubscribe"] == len(UNSUBSCRIBED)
        assert kinds["spam_report"] == len(ARF)

        # webhooks: every event at the "*" endpoint, only bounces at the other, each POST correctly signed
        all_ids = {e.event_id for e in events}
        bounce_ids = {e.event_id for e in events if e.event_type == EventType.BOUNCE}

        def received(path: str, secret: str) -> set[str]:
            ids = set()
            for post in world.receiver.posts(path):
                assert verify_signature(secret, post.headers["X-ScaiSend-Signature"], post.body, time.time())
                ids.add(json.loads(post.body)["event_id"])
            return ids

        async def webhooks_done() -> bool:
            return (
                received("/all", everything["signing_secret"]) >= all_ids
                and received("/bounces", bounces_only["signing_secret"]) >= bounce_ids
            )

        await eventually(webhooks_done, 120, "every event at its endpoints")
        assert received("/all", everything["signing_secret"]) == all_ids
        assert received("/bounces", bounces_only["signing_secret"]) == bounce_ids

        # suppression lists
        bounce_list = (await api.get("/v3/suppression/bounces", params={"limit": 500})).json()["bounces"]
        expected_bounces = (
            {address("suppressed", i) for i in range(30)}
            | {address("hard", i) for i in range(20)}
            | {address("block", i) for i in range(10)}
            | {address("ok", i) for i in DSN}
        )
        assert {b["email"] for b in bounce_list} == expected_bounces
        spam = (await api.get("/v3/suppression/spam_reports", params={"limit": 500})).json()["spam_reports"]
        assert {s["email"] for s in spam} == {address("ok", i) for i in ARF}
        unsubscribed = (await api.get("/v3/suppression/unsubscribes", params={"limit": 500})).json()
        assert {u["email"] for u in unsubscribed["unsubscribes"]} == {address("ok", i) for i in UNSUBSCRIBED}

        # stats equal the events, live and after a rebuild
        expected = Counter(m for e in events for m in metrics_for(EventType(e.event_type), e.data or {}))
        assert expected["requests"] == 200
        assert expected["unique_opens"] == len(OPENED)
        assert expected["unique_clicks"] == len(CLICKED)
        today = datetime.now(UTC).date().isoformat()

        async def stats() -> dict[str, int]:
            response = await api.get("/v3/stats", params={"start_date": today, "end_date": today})
            assert response.status_code == 200, response.text
            (day,) = response.json()
            return dict(day["stats"][0]["metrics"])

        want = {name: expected.get(name, 0) for name in STAT_METRICS}
        assert await stats() == want
        rebuilt = await api.post("/v3/stats/rebuild", json={"start_date": today, "end_date": today})
        assert rebuilt.status_code == 200, rebuilt.text
        assert await stats() == want
