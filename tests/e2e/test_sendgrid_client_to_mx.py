"""Issue "send pipeline", the drop-in promise end to end: the official ``sendgrid`` client, unchanged, sends a
``Mail`` built with its helpers (dynamic template data, two personalizations, an attachment, an ASM group,
categories, custom_args, send_at, mail_settings, tracking_settings) to the real API process; the worker and SMTP
processes deliver it to the scriptable MX found through the loopback DNS; dkimpy verifies each signature against
the TXT record that DNS serves."""

from __future__ import annotations

import asyncio
import base64
import email
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import httpx
import pytest
from sendgrid import SendGridAPIClient  # type: ignore[import-untyped]
from sendgrid.helpers.mail import (  # type: ignore[import-untyped]
    Asm,
    Attachment,
    Category,
    ClickTracking,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    FooterHtml,
    FooterSettings,
    FooterText,
    GroupId,
    Mail,
    MailSettings,
    OpenTracking,
    Personalization,
    SendAt,
    To,
    TrackingSettings,
)

from tests.factories.delivery import Sender, dkim_verifies
from tests.factories.tenants import TenantKey
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX
from tests.harness.stack import Stack
from tests.harness.stack_world import stack_world

pytestmark = pytest.mark.timeout(180)
INBOX = "inbox.e2e-client.test"
ATTACHMENT = b"order,total\n42,19.99\n"


@dataclass
class World:
    stack: Stack
    mx: ScriptableMX
    sender: Sender
    key: TenantKey
    dns: LoopbackDNS


@pytest.fixture
async def world(own_database: OwnDatabase, dns_server: LoopbackDNS, tmp_path: Path) -> AsyncIterator[World]:
    """The shared e2e world (:func:`tests.harness.stack_world.stack_world`) with an MX that accepts everything."""
    async with stack_world(own_database, dns_server, tmp_path, INBOX, lambda mx: None) as shared:
        yield World(shared.stack, shared.mx, shared.sender, shared.key, dns_server)


async def create_template(stack: Stack, key: TenantKey) -> str:
    async with httpx.AsyncClient(base_url=stack.api, headers=key.headers, timeout=20) as client:
        template = (await client.post("/v3/templates", json={"name": f"receipt-{uuid.uuid4().hex[:6]}"})).json()
        version = await client.post(
            f"/v3/templates/{template['id']}/versions",
            json={
                "name": "v1",
                "active": 1,
                "subject": "Receipt for {{name}}",
                "html_content": "<html><body><p>Hi {{name}},</p><ul>{{#each items}}<li>{{this}}</li>{{/each}}</ul>"
                '<a href="https://shop.example/orders">orders</a></body></html>',
            },
        )
        assert version.status_code == 201, version.text
        group = await client.post(
            "/v3/asm/groups", json={"name": f"Receipts {uuid.uuid4().hex[:4]}", "description": "Order mail"}
        )
        assert group.status_code == 201, group.text
        return f"{template['id']}|{group.json()['id']}"


def build_mail(sender: Sender, template_id: str, group_id: int, send_at: int) -> Mail:
    mail = Mail(from_email=(sender.address, "Shop"))
    mail.template_id = template_id
    for name, items in (("Ann", ["tea", "cups"]), ("Bob", ["mugs"])):
        personalization = Personalization()
        personalization.add_to(To(f"{name.lower()}@{INBOX}", name))
        personalization.dynamic_template_data = {"name": name, "items": items}
        mail.add_personalization(personalization)
    mail.attachment = Attachment(
        FileContent(base64.b64encode(ATTACHMENT).decode()),
        FileName("receipt.csv"),
        FileType("text/csv"),
        Disposition("attachment"),
    )
    mail.asm = Asm(GroupId(group_id))
    mail.category = [Category("receipts"), Category("e2e")]
    mail.custom_arg = CustomArg("order", "42")
    mail.send_at = SendAt(send_at)
    footer = FooterSettings(True, FooterText("Shop Ltd"), FooterHtml("<p>Shop Ltd</p>"))
    mail.mail_settings = MailSettings(footer_settings=footer)
    mail.tracking_settings = TrackingSettings(
        click_tracking=ClickTracking(True, False), open_tracking=OpenTracking(True)
    )
    return mail


def html_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no html part")


async def test_official_client_mail_arrives_signed(world: World) -> None:
    stack, mx, sender, key = world.stack, world.mx, world.sender, world.key
    template_id, group_id = (await create_template(stack, key)).split("|")
    send_at = int(time.time()) + 3
    client = SendGridAPIClient(key.key, host=stack.api)
    response = await asyncio.to_thread(client.send, build_mail(sender, template_id, int(group_id), send_at))
    assert response.status_code == 202
    assert response.headers["X-Message-Id"].startswith("msg_")
    received = await mx.wait_for(2, timeout=90)
    assert time.time() >= send_at
    by_rcpt = {r.rcpt_tos[0]: r for r in received}
    for name in ("ann", "bob"):
        got = by_rcpt[f"{name}@{INBOX}"]
        parsed = email.message_from_bytes(got.data)
        assert dkim_verifies(got.data, world.dns)
        assert got.mail_from.startswith("bounces+msg_")
        assert parsed["Subject"] == f"Receipt for {name.capitalize()}"
        assert parsed["X-ScaiSend-Message-Id"].startswith("msg_")
        assert "List-Unsubscribe" in parsed
        html = html_part(parsed)
        assert f"Hi {name.capitalize()}," in html
        assert "/t/c/" in html
        assert "/t/o/" in html
        assert "Shop Ltd" in html  # footer
        attachments = [p for p in parsed.walk() if p.get_filename() == "receipt.csv"]
        assert [p.get_payload(decode=True) for p in attachments] == [ATTACHMENT]
    message_id = response.headers["X-Message-Id"]
    async with httpx.AsyncClient(base_url=stack.api, headers=key.headers, timeout=20) as api:
        deadline = time.monotonic() + 30
        while (status := (await api.get(f"/v3/messages/{message_id}")).json()["status"]) != "delivered":
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.5)
