"""Issue 12, part 2 (D44): bounces that are not RFC 3464 (older Exim, qmail, Exchange 2003, hosted gateways), read by
flufl.bounce (plus the Exchange 2003 notice it misses), then matched by the signed return path and classified like
DSNs, through the real inbound listener."""

from __future__ import annotations

import email
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.inbound.processing import read_report
from scaisend.models import EmailEvent, Message, Suppression
from scaisend.settings import Settings
from tests.factories.sent import SentMessage
from tests.harness.inbound import quarantined, send_report
from tests.inbound.conftest import signed_verp

Loader = Callable[[str, SentMessage | None], bytes]
MSG = SentMessage("msg_01jabcdefghjkmnpqrstvwxyz0", "tnt_x", "someone@recipient.example")

CASES = [
    # fixture, action, status, reply, event, bounce type, suppressed
    (
        "plain/exim_plain.eml",
        "failed",
        "5.1.1",
        "550 5.1.1 <someone@recipient.example>: Recipient address rejected",
        "bounce",
        "hard",
        True,
    ),
    (
        "plain/qmail.eml",
        "failed",
        "5.1.1",
        "550 5.1.1 <someone@recipient.example>... User unknown",
        "bounce",
        "hard",
        True,
    ),
    (
        "plain/qmail_mailbox_full.eml",
        "failed",
        "5.2.2",
        "552 5.2.2 <someone@recipient.example>: Mailbox full",
        "bounce",
        "soft",
        False,
    ),
    (
        "plain/exchange_2003.eml",
        "failed",
        "5.1.1",
        "550 5.1.1 someone@recipient.example on 27/11/2026",
        "bounce",
        "hard",
        True,
    ),
    (
        "plain/gateway_failed_permanently.eml",
        "failed",
        "5.7.1",
        "550 5.7.1 Service unavailable; client host",
        "blocked",
        "block",
        True,
    ),
]


@pytest.mark.parametrize(("name", "action", "status", "reply", "_e", "_b", "_s"), CASES, ids=[c[0] for c in CASES])
def test_recipient_status_and_reply_are_read(
    fixture_bytes: Loader, name: str, action: str, status: str, reply: str, _e: str, _b: str, _s: bool
) -> None:
    report = read_report(fixture_bytes(name, MSG)).dsn
    assert report is not None
    assert report.source == "plain"
    (recipient,) = report.recipients
    assert (recipient.recipient, recipient.action, recipient.status) == (MSG.recipient, action, status)
    assert recipient.diagnostic.startswith(reply)


def test_a_delay_warning_is_read_as_delayed(fixture_bytes: Loader) -> None:
    report = read_report(fixture_bytes("plain/gateway_delayed.eml", MSG)).dsn
    assert report is not None
    (recipient,) = report.recipients
    assert (recipient.action, recipient.status, recipient.diagnostic) == (
        "delayed",
        "4.4.2",
        "421 4.4.2 Connection timed out",
    )


def test_rfc_3464_reports_still_come_from_the_dsn_parser(fixture_bytes: Loader) -> None:
    report = read_report(fixture_bytes("dsn/postfix_user_unknown.eml", MSG)).dsn
    assert report is not None
    assert report.source == "dsn"


def test_mail_that_is_no_bounce_is_not_read_as_one() -> None:
    raw = b"From: someone@example.com\r\nSubject: hello\r\n\r\nJust saying hi to someone@example.com.\r\n"
    assert read_report(raw).dsn is None
    assert email.message_from_bytes(raw)["Subject"] == "hello"


async def outcome(app: FastAPI, message: SentMessage) -> tuple[list[EmailEvent], list[Suppression], str]:
    async with unit_of_work(app.state.resources.maker) as session:
        events = (await session.scalars(select(EmailEvent).where(EmailEvent.message_id == message.id))).all()
        rows = (await session.scalars(select(Suppression).where(Suppression.tenant_id == message.tenant_id))).all()
        row = await session.get(Message, message.id)
        assert row is not None
        return list(events), list(rows), str(row.status)


@pytest.mark.parametrize(
    ("name", "_a", "_s", "reply", "event_type", "bounce_type", "suppressed"), CASES, ids=[c[0] for c in CASES]
)
async def test_a_plain_bounce_on_the_signed_return_path_is_recorded(
    app: FastAPI,
    inbound: Settings,
    sent_message: SentMessage,
    fixture_bytes: Loader,
    name: str,
    _a: str,
    _s: str,
    reply: str,
    event_type: str,
    bounce_type: str,
    suppressed: bool,
) -> None:
    await send_report(inbound, fixture_bytes(name, sent_message), signed_verp(inbound, sent_message))
    events, rows, status = await outcome(app, sent_message)
    (event,) = events
    assert (event.event_type, event.recipient_email) == (event_type, sent_message.recipient)
    assert event.data["bounce_type"] == bounce_type
    assert event.data["source"] == "plain"
    assert event.data["reason"].startswith(reply[:3])
    assert bool([r for r in rows if r.email == sent_message.recipient]) is suppressed
    assert status == "bounced"


async def test_a_delay_warning_changes_nothing(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader
) -> None:
    raw = fixture_bytes("plain/gateway_delayed.eml", sent_message)
    await send_report(inbound, raw, signed_verp(inbound, sent_message))
    assert await outcome(app, sent_message) == ([], [], "delivered")


async def test_a_plain_bounce_without_the_signed_return_path_changes_nothing(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader
) -> None:
    unsigned = f"bounces+{sent_message.id}@{inbound.BOUNCE_DOMAIN}"
    await send_report(inbound, fixture_bytes("plain/exim_plain.eml", sent_message), unsigned)
    assert await outcome(app, sent_message) == ([], [], "delivered")
    assert len(quarantined(inbound, "unverified")) == 1
