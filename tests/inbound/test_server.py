"""The inbound listener end to end: real SMTP on loopback, real MariaDB. DSNs become bounce events and bounce
suppressions, complaints become spam reports, delayed DSNs never suppress, and junk is kept, not fatal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiosmtplib
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.clock import SystemClock
from scaisend.db.session import unit_of_work
from scaisend.inbound.server import start_inbound_server
from scaisend.models import EmailEvent, Message, Suppression
from scaisend.settings import Settings
from scaisend.tracking.tokens import TokenKind, sign_token
from tests.factories.sent import SentMessage
from tests.harness.processes import free_port

Loader = Callable[[str, SentMessage | None], bytes]


@pytest.fixture
async def inbound(app: FastAPI, tmp_path: Path) -> AsyncIterator[Settings]:
    base: Settings = app.state.resources.settings
    settings = base.model_copy(
        update={
            "SMTP_INBOUND_HOST": "127.0.0.1",
            "SMTP_INBOUND_PORT": free_port(),
            "INBOUND_QUARANTINE_PATH": str(tmp_path / "inbound"),
        }
    )
    stop = await start_inbound_server(
        {"settings": settings, "maker": app.state.resources.maker, "clock": SystemClock()}
    )
    yield settings
    await stop()


async def send(settings: Settings, raw: bytes, rcpt: str) -> None:
    """Send as a bouncing MTA does: null reverse path (``MAIL FROM:<>``)."""
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=settings.SMTP_INBOUND_PORT, timeout=10, start_tls=False
    ) as client:
        await client.sendmail("", [rcpt], raw)


def verp(message: SentMessage | None, settings: Settings) -> str:
    return f"bounces+{message.id if message else 'msg_00000000000000000000000000'}@{settings.BOUNCE_DOMAIN}"


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
    await send(inbound, raw, verp(sent_message, inbound))
    await send(inbound, raw, verp(sent_message, inbound))  # the same DSN twice records once
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
    await send(inbound, fixture_bytes("dsn/postfix_delayed.eml", sent_message), verp(sent_message, inbound))
    events, rows = await events_and_suppressions(app, sent_message)
    assert events == []
    assert rows == []


@pytest.mark.parametrize("fixture", ["arf/yahoo_style.eml", "arf/microsoft_style.eml", "arf/redacted_recipient.eml"])
async def test_complaint_becomes_a_spam_report(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader, fixture: str
) -> None:
    await send(inbound, fixture_bytes(fixture, sent_message), inbound.fbl_address)
    events, rows = await events_and_suppressions(app, sent_message)
    (event,) = events
    assert (event.event_type, event.recipient_email) == ("spam_report", sent_message.recipient)
    assert [(r.kind, r.email) for r in rows] == [("spam_report", sent_message.recipient)]


async def test_junk_and_strangers_are_kept_and_the_listener_lives_on(
    app: FastAPI, inbound: Settings, sent_message: SentMessage, fixture_bytes: Loader
) -> None:
    await send(inbound, fixture_bytes("dsn/unparseable.eml", None), verp(None, inbound))
    await send(inbound, fixture_bytes("dsn/postfix_user_unknown.eml", None), verp(None, inbound))  # no such message
    quarantine = Path(inbound.INBOUND_QUARANTINE_PATH)
    assert len(list((quarantine / "unparseable").glob("*.eml"))) == 1
    assert len(list((quarantine / "unmatched").glob("*.eml"))) == 1
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(inbound, b"Subject: hi\r\n\r\nhello\r\n", "someone@not-our-domain.example")
    await send(inbound, fixture_bytes("dsn/postfix_user_unknown.eml", sent_message), verp(sent_message, inbound))
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
    await send(inbound, raw, f"unsubscribe@{inbound.BOUNCE_DOMAIN}")
    events, rows = await events_and_suppressions(app, sent_message)
    assert [e.event_type for e in events] == ["unsubscribe"]
    assert [(r.kind, r.email) for r in rows] == [("unsubscribe", sent_message.recipient)]
