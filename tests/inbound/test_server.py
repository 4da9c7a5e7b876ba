"""The inbound listener end to end: real SMTP on loopback, real MariaDB. DSNs become bounce events and bounce
suppressions, complaints become spam reports, delayed DSNs never suppress, and junk is kept, not fatal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiosmtplib
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.models import EmailEvent, Message, Suppression
from scaisend.settings import Settings
from scaisend.tracking.tokens import TokenKind, sign_token
from tests.factories.sent import SentMessage
from tests.harness.inbound import send_report
from tests.inbound.conftest import signed_verp

Loader = Callable[[str, SentMessage | None], bytes]


def verp(message: SentMessage | None, settings: Settings) -> str:
    return signed_verp(settings, message)


async def events_and_suppressions(app: FastAPI, message: SentMessage) -> tuple[list[EmailEvent], list[Suppression]]:
    async with unit_of_work(app.state.resources.maker) as session:
        events = (await session.scalars(select(EmailEvent).where(EmailEvent.message_id == message.id))).all()
        rows = (await session.scalars(select(Suppression).where(Suppression.tenant_id == message.tenant_id))).all()
    return list(events), list(rows)


@pytest.mark.parametrize(
    ("fixture", "event_type", "bounce_type", "suppressed"),
    [
        ("dsn/postfix_user_unknown.eml", "bounce", "hard", True),
        ("dsn/exim_multipart.eml", "bounce", "hard", True),
        ("dsn/gmail_style.eml", "bounce", "hard", True),
        ("dsn/microsoft_style.eml", "bounce", "hard", True),
        ("dsn/global_delivery_status.eml", "bounce", "hard", True),
        ("dsn/mailbox_full.eml", "bounce", "soft", False),
    ],
)
async def test_dsn_becomes_a_bounce(
    app: FastAPI,
    inbound: Settings,
    sent_message: SentMessage,
    fixture_bytes: Loader,
    fixture: str,
    event_type: str,
    bounce_type: str,
    suppressed: bool,
) -> None:
    raw = fixture_bytes(fixture, sent_message)
    await send_report(inbound, raw, verp(sent_message, inbound))
    await send_report(inbound, raw, verp(sent_message, inbound))  # the same DSN twice records once
    events, rows = await events_and_suppressions(app, sent_message)
    (event,) = events
    assert (event.event_type, event.recipient_email) == (event_type, sent_message.recipient)
    assert event.data["bounce_type"] == bounce_type
    assert event.data["reason"].startswith(("550", "552"))
    bounces = [r for r in rows if r.kind == "bounce" and r.email == sent_message.recipient]
    assert bool(bounces) is suppressed
    async with unit_of_work(app.state.resources.maker) as session:
        message = await session.get(Message, sent_message.id)
    assert message is not None
    assert message.status == "bounced"


async def test_delayed_dsn_never_suppresses(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader
) -> None:
    await send_report(inbound, fixture_bytes("dsn/postfix_delayed.eml", sent_message), verp(sent_message, inbound))
    events, rows = await events_and_suppressions(app, sent_message)
    assert events == []
    assert rows == []


@pytest.mark.parametrize("fixture", ["arf/yahoo_style.eml", "arf/microsoft_style.eml", "arf/redacted_recipient.eml"])
async def test_complaint_becomes_a_spam_report(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader, fixture: str
) -> None:
    await send_report(inbound, fixture_bytes(fixture, sent_message), inbound.fbl_address)
    events, rows = await events_and_suppressions(app, sent_message)
    (event,) = events
    assert (event.event_type, event.recipient_email) == ("spam_report", sent_message.recipient)
    assert [(r.kind, r.email) for r in rows] == [("spam_report", sent_message.recipient)]


async def test_junk_and_strangers_are_kept_and_the_listener_lives_on(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader
) -> None:
    await send_report(inbound, fixture_bytes("dsn/unparseable.eml", None), verp(None, inbound))
    await send_report(
        inbound, fixture_bytes("dsn/postfix_user_unknown.eml", None), verp(None, inbound)
    )  # no such message
    quarantine = Path(inbound.INBOUND_QUARANTINE_PATH)
    assert len(list((quarantine / "unparseable").glob("*.eml"))) == 1
    assert len(list((quarantine / "unmatched").glob("*.eml"))) == 1
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send_report(inbound, b"Subject: hi\r\n\r\nhello\r\n", "someone@not-our-domain.example")
    await send_report(inbound, fixture_bytes("dsn/postfix_user_unknown.eml", sent_message), verp(sent_message, inbound))
    events, _ = await events_and_suppressions(app, sent_message)
    assert [e.event_type for e in events] == ["bounce"]


async def test_mailto_unsubscribe(app: FastAPI, inbound: Settings, sent_message: SentMessage) -> None:
    token = sign_token(
        inbound.SECRET_KEY, kind=TokenKind.UNSUBSCRIBE, message_id=sent_message.id, recipient=sent_message.recipient
    )
    raw = (
        f"From: {sent_message.recipient}\r\nTo: unsubscribe@{inbound.BOUNCE_DOMAIN}\r\n"
        f"Subject: unsubscribe-{token}\r\n\r\n\r\n"
    ).encode()
    await send_report(inbound, raw, f"unsubscribe@{inbound.BOUNCE_DOMAIN}")
    events, rows = await events_and_suppressions(app, sent_message)
    assert [e.event_type for e in events] == ["unsubscribe"]
    assert [(r.kind, r.email) for r in rows] == [("unsubscribe", sent_message.recipient)]
