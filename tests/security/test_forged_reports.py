"""Issue 9, finding 1 (D41): forged bounces and complaints, sent to the real inbound listener, suppress nothing.

The attacker has received one message of the tenant's (as ``reader@``, with ``colleague@`` in cc), so they know its
message id, its ``Message-ID`` and their own signed return path. ``ceo@customer.example`` never received it. Before
D41 a DSN naming the CEO, sent to ``bounces+<message id>@…``, put the CEO on the tenant's bounce list."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.delivery.envelope import ReturnPathSigner
from scaisend.ids import new_id
from scaisend.models import EmailEvent, Message, MessageStatus, Suppression
from scaisend.settings import Settings
from tests.factories.tenants import TenantKey
from tests.harness.inbound import quarantined, send_report

CEO = "ceo@customer.example"
READER = "reader@recipient.example"
COLLEAGUE = "colleague@recipient.example"


@dataclass(frozen=True)
class Delivered:
    id: str
    tenant_id: str


@pytest.fixture
async def delivered(app: FastAPI, tenant: TenantKey) -> Delivered:
    message_id = new_id("msg")
    async with unit_of_work(app.state.resources.maker) as session:
        session.add(
            Message(
                id=message_id,
                tenant_id=tenant.tenant_id,
                status=MessageStatus.DELIVERED,
                from_email="sender@sender.example",
                to_emails=[READER],
                categories=[],
                personalization={"to": [{"email": READER}], "cc": [{"email": COLLEAGUE}]},
                custom_args={},
                delivered_at=datetime.now(UTC),
            )
        )
    return Delivered(message_id, tenant.tenant_id)


def signed(settings: Settings, message: Delivered, recipient: str) -> str:
    return ReturnPathSigner.from_settings(settings).sender(message.id, recipient, settings.BOUNCE_DOMAIN)


def dsn(to: str, message: Delivered, *failed: str, original_return_path: str = "") -> bytes:
    """A well-formed RFC 3464 report, as Postfix writes one, saying each of ``failed`` is unknown."""
    entries = "".join(
        f"Final-Recipient: rfc822; {r}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{r}>: Recipient address rejected: User unknown\r\n\r\n"
        for r in failed
    )
    return_path = f"Return-Path: <{original_return_path}>\r\n" if original_return_path else ""
    return (
        f"From: MAILER-DAEMON@mx.recipient.example\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.recipient.example\r\n\r\n"
        f"{entries}"
        f"--b\r\nContent-Type: message/rfc822\r\n\r\n{return_path}From: sender@sender.example\r\nTo: {READER}\r\n"
        f"Message-ID: <{message.id}@mta.scaisend.test>\r\nX-ScaiSend-Message-Id: {message.id}\r\n\r\nHello.\r\n"
        "--b--\r\n"
    ).encode()


def arf(message: Delivered, rcpt_to: str, *, return_path: str = "") -> bytes:
    """A feedback-loop complaint naming ``rcpt_to``; the original carries ``return_path`` when given."""
    header = f"Return-Path: <{return_path}>\r\n" if return_path else ""
    return (
        "From: fbl@isp.example\r\nTo: fbl\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nAn abuse report.\r\n\r\n"
        f"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: ISP-FBL/1.0\r\n"
        f"Version: 1\r\nOriginal-Rcpt-To: <{rcpt_to}>\r\n\r\n"
        f"--b\r\nContent-Type: message/rfc822\r\n\r\n{header}From: sender@sender.example\r\nTo: {rcpt_to}\r\n"
        f"Message-ID: <{message.id}@mta.scaisend.test>\r\nX-ScaiSend-Message-Id: {message.id}\r\n\r\nHello.\r\n"
        "--b--\r\n"
    ).encode()


async def outcome(app: FastAPI, message: Delivered) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
    """(event type, recipient) of the message's events, (kind, email) of the tenant's suppressions, its status."""
    async with unit_of_work(app.state.resources.maker) as session:
        events = await session.scalars(select(EmailEvent).where(EmailEvent.message_id == message.id))
        rows = await session.scalars(select(Suppression).where(Suppression.tenant_id == message.tenant_id))
        row = await session.get(Message, message.id)
        assert row is not None
        return (
            sorted((e.event_type, e.recipient_email) for e in events),
            sorted((r.kind, r.email) for r in rows),
            str(row.status),
        )


def unverified(report: str, reason: str, tenant: str) -> float:
    labels = {"report": report, "reason": reason, "tenant": tenant}
    return REGISTRY.get_sample_value("scaisend_smtp_inbound_unverified_reports_total", labels) or 0.0


NOTHING: tuple[list[tuple[str, str]], list[tuple[str, str]], str] = ([], [], "delivered")


async def test_the_reproduced_attack_an_unsigned_return_path_suppresses_nothing(
    app: FastAPI, inbound: Settings, delivered: Delivered
) -> None:
    before = unverified("dsn", "unsigned", delivered.tenant_id)
    unsigned = f"bounces+{delivered.id}@{inbound.BOUNCE_DOMAIN}"  # the return path before D41
    await send_report(inbound, dsn(unsigned, delivered, CEO), unsigned)
    assert await outcome(app, delivered) == NOTHING
    assert unverified("dsn", "unsigned", delivered.tenant_id) == before + 1  # kept and counted against the tenant
    assert len(quarantined(inbound, "unverified")) == 1


async def test_a_guessed_mac_suppresses_nothing(app: FastAPI, inbound: Settings, delivered: Delivered) -> None:
    before = unverified("dsn", "bad_signature", delivered.tenant_id)
    for recipient in (CEO, READER):
        forged = f"bounces+{delivered.id}.{secrets.token_hex(8)}@{inbound.BOUNCE_DOMAIN}"
        await send_report(inbound, dsn(forged, delivered, recipient), forged)
    assert await outcome(app, delivered) == NOTHING
    assert unverified("dsn", "bad_signature", delivered.tenant_id) == before + 2


async def test_a_return_path_from_another_message_suppresses_nothing(
    app: FastAPI, inbound: Settings, delivered: Delivered, tenant: TenantKey
) -> None:
    other = Delivered(new_id("msg"), tenant.tenant_id)  # the MAC binds the message id: it cannot be moved
    mac = signed(inbound, other, READER).partition(".")[2].partition("@")[0]
    moved = f"bounces+{delivered.id}.{mac}@{inbound.BOUNCE_DOMAIN}"
    await send_report(inbound, dsn(moved, delivered, READER), moved)
    assert await outcome(app, delivered) == NOTHING


async def test_the_attackers_own_signed_return_path_cannot_name_anyone_else(
    app: FastAPI, inbound: Settings, delivered: Delivered
) -> None:
    before = unverified("dsn", "other_recipient", delivered.tenant_id)
    own = signed(inbound, delivered, READER)
    await send_report(inbound, dsn(own, delivered, CEO, COLLEAGUE), own)  # COLLEAGUE did receive the message
    assert await outcome(app, delivered) == NOTHING
    assert unverified("dsn", "other_recipient", delivered.tenant_id) == before + 1


async def test_embedded_headers_alone_never_suppress(app: FastAPI, inbound: Settings, delivered: Delivered) -> None:
    """Sent to a mailbox of the bounce domain that is no return path, with a signed ``Return-Path`` in the
    embedded original: a DSN is proven only by the address it was delivered to."""
    elsewhere = f"postmaster@{inbound.BOUNCE_DOMAIN}"
    raw = dsn(elsewhere, delivered, READER, original_return_path=signed(inbound, delivered, READER))
    await send_report(inbound, raw, elsewhere)
    assert await outcome(app, delivered) == NOTHING


async def test_the_genuine_signed_dsn_bounces_its_recipient_only(
    app: FastAPI, inbound: Settings, delivered: Delivered
) -> None:
    path = signed(inbound, delivered, COLLEAGUE)
    await send_report(inbound, dsn(path, delivered, COLLEAGUE, CEO), path)
    events, suppressions, status = await outcome(app, delivered)
    assert events == [("bounce", COLLEAGUE)]
    assert suppressions == [("bounce", COLLEAGUE)]
    assert status == "bounced"


async def test_a_complaint_without_a_signed_return_path_suppresses_nothing(
    app: FastAPI, inbound: Settings, delivered: Delivered
) -> None:
    before = unverified("fbl", "unsigned", delivered.tenant_id)
    await send_report(inbound, arf(delivered, CEO), inbound.fbl_address)
    await send_report(inbound, arf(delivered, READER), inbound.fbl_address)
    assert await outcome(app, delivered) == NOTHING
    assert unverified("fbl", "unsigned", delivered.tenant_id) == before + 2


async def test_a_signed_complaint_reports_the_signed_recipient_whoever_it_names(
    app: FastAPI, inbound: Settings, delivered: Delivered
) -> None:
    await send_report(inbound, arf(delivered, CEO, return_path=signed(inbound, delivered, READER)), inbound.fbl_address)
    events, suppressions, _ = await outcome(app, delivered)
    assert events == [("spam_report", READER)]
    assert suppressions == [("spam_report", READER)]
