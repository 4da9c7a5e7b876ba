"""The steps of the compose job (docs/architecture.md, D27, stage 2, docs/compose.md, docs/delivery.md, D21 step 3, docs/suppressions.md, D5, D12). Each takes the open
session and the locked message and returns an explicit outcome; none commits and none raises for a message that
cannot be sent.

:mod:`scaisend.compose.tasks` runs them in order: suppressions → ``processed`` → render → instrument + MIME → store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.compose.attachment_slots import Hollow, hollow
from scaisend.compose.content import Rendered
from scaisend.compose.instrumentation import Body, TrackingLinks, instrument
from scaisend.compose.mime import Draft, Mailbox, MimeBuildError, decode_attachments, merge_headers
from scaisend.compose.recipients import Recipient, processed_dedupe_key, processed_recipients, recipients_of
from scaisend.events.recorder import record_event
from scaisend.events.types import EventType
from scaisend.images.embedding import embed_images
from scaisend.images.storage import image_store
from scaisend.metrics import PROCESSED_RECIPIENTS
from scaisend.models import Message, MessageContent, MessageStatus, SendRequest
from scaisend.settings import Settings
from scaisend.suppressions.policy import Bypass, drop_reasons
from scaisend.tenants.service import suspension_reason
from scaisend.tracking.config import effective_tracking, footer_setting, tenant_tracking

ALL_SUPPRESSED = "All recipients suppressed"
NO_RECIPIENTS = "The message has no recipients"


@dataclass(frozen=True)
class Stopped:
    """The message cannot go further: its terminal ``error_message``."""

    error: str


async def lock_message(session: AsyncSession, message_id: str) -> Message | None:
    """The message row, locked until the transaction ends so two workers never compose it at once."""
    return await session.scalar(select(Message).where(Message.id == message_id).with_for_update())


async def tenant_stop(session: AsyncSession, message: Message) -> Stopped | None:
    """A suspended tenant sends nothing (D52): its queued messages end ``failed`` with the reason."""
    reason = await suspension_reason(session, message.tenant_id)
    return Stopped(reason) if reason else None


async def request_body(session: AsyncSession, message: Message) -> dict[str, Any]:
    """The stored send request (without personalizations); ``{}`` when the message has none."""
    if message.request_id is None:
        return {}
    body = await session.scalar(
        select(SendRequest.body).where(SendRequest.id == message.request_id, SendRequest.tenant_id == message.tenant_id)
    )
    return dict(body or {})


async def drop_suppressed(
    session: AsyncSession, message: Message, body: Mapping[str, Any], now: datetime
) -> list[Recipient] | Stopped:
    """Record a ``dropped`` event (once) for each suppressed recipient; the recipients left to send to."""
    everyone = recipients_of(message.personalization or {})
    if not everyone:
        return Stopped(NO_RECIPIENTS)
    reasons = await drop_reasons(
        session,
        message.tenant_id,
        [r.email for r in everyone],
        asm_group_id=message.asm_group_id,
        bypass=Bypass.from_mail_settings(body.get("mail_settings")),
    )
    for email, reason in reasons.items():
        await _record_once(
            session, message, EventType.DROPPED, email, now, f"dropped:{email.lower()}", {"reason": reason.value}
        )
    kept = processed_recipients(message.personalization or {}, reasons)
    return kept or Stopped(ALL_SUPPRESSED)


async def _record_once(
    session: AsyncSession,
    message: Message,
    kind: EventType,
    email: str,
    now: datetime,
    dedupe_key: str,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """One compose event of ``message`` for ``email``, with the message's categories; ``False`` when a re-run finds
    it already recorded."""
    event = await record_event(
        session,
        tenant_id=message.tenant_id,
        message_id=message.id,
        event_type=kind,
        recipient_email=email,
        occurred_at=now,
        metadata=metadata,
        categories=list(message.categories or []),
        dedupe_key=dedupe_key,
    )
    return event is not None


def primary_recipient(recipients: list[Recipient]) -> Recipient:
    """The recipient tracking tokens name: the first ``to`` left, else the first one."""
    return next((r for r in recipients if r.field == "to"), recipients[0])


async def record_processed(session: AsyncSession, message: Message, recipients: list[Recipient], now: datetime) -> None:
    """D5 (revised): one ``processed`` event per recipient left after the drops (to, cc and bcc, see
    :func:`~scaisend.compose.recipients.processed_recipients`), each once however often the job runs."""
    for recipient in recipients:
        if await _record_once(
            session, message, EventType.PROCESSED, recipient.email, now, processed_dedupe_key(recipient.email)
        ):
            PROCESSED_RECIPIENTS.inc()
    message.processed_at = now


SUBJECT_LENGTH = 1000  # messages.subject


def remember_subject(message: Message, rendered: Rendered) -> None:
    """Keep the subject as rendered (a template's, substitutions applied) on the row, so ``/v3/messages`` list and
    detail show what the recipient sees rather than the request's (``null`` for a template send)."""
    message.subject = rendered.subject[:SUBJECT_LENGTH]


def _mailboxes(body: Mapping[str, Any]) -> list[Mailbox]:
    entries = body.get("reply_to_list") or ([body["reply_to"]] if body.get("reply_to") else [])
    return [
        Mailbox(str(e["email"]), e.get("name") or None) for e in entries if isinstance(e, Mapping) and e.get("email")
    ]


async def build_message(
    session: AsyncSession,
    settings: Settings,
    message: Message,
    body: Mapping[str, Any],
    rendered: Rendered,
    recipients: list[Recipient],
    now: datetime,
) -> Hollow | Stopped:
    """Instrument the rendered parts for tracking and build the MIME, the request's attachments left out (D70)."""
    tracking = effective_tracking(await tenant_tracking(session, message.tenant_id), body.get("tracking_settings"))
    links = TrackingLinks.for_message(settings, message.id, primary_recipient(recipients).email)
    instrumented = instrument(
        Body(rendered.html, rendered.text),
        preheader=rendered.preheader,
        tracking=tracking,
        footer=footer_setting(body.get("mail_settings")),
        links=links,
        asm_group_id=message.asm_group_id,
    )
    html, inline = instrumented.html, []
    if html and tracking.image_embed_mode == "cid":
        store = image_store(settings)
        embedded = await embed_images(session, store, message.tenant_id, settings.PUBLIC_BASE_URL, html)
        html, inline = embedded.html, embedded.attachments
    personalization = message.personalization or {}
    try:
        draft = Draft(
            message_id=message.id,
            hostname=settings.SMTP_HOSTNAME,
            date=now,
            sender=Mailbox(message.from_email, message.from_name or None),
            to=[r for r in recipients if r.field == "to"],
            cc=[r for r in recipients if r.field == "cc"],
            subject=rendered.subject,
            html=html,
            text=instrumented.text,
            reply_to=_mailboxes(body),
            headers=merge_headers(body.get("headers"), personalization.get("headers"), instrumented.headers),
            attachments=decode_attachments(body.get("attachments")) + inline,
        )
        return hollow(draft)
    except MimeBuildError as exc:
        return Stopped(str(exc))


def _blob(session: AsyncSession, data: bytes) -> bytes | ColumnElement[bytes]:
    """``data`` as a bind value. aiomysql cannot bind ``bytes`` with PyMySQL 1.2 (it imports the removed
    ``escape_bytes_prefixed``, PyMySQL#1274), so on MySQL the bytes travel as hex and ``UNHEX()`` restores them."""
    if session.get_bind().dialect.name == "mysql":
        return func.unhex(data.hex(), type_=LargeBinary)
    return data


async def store_mime(
    session: AsyncSession, message: Message, mime: bytes | Hollow, now: datetime, *, never_composed: bool = False
) -> None:
    """Keep the bytes (with where the request's attachments go, D70) against the message id, replacing any earlier
    copy, and mark it ``rendered``.

    The earlier copy is looked up with a plain read and deleted only when it exists: a ``DELETE`` of a key that is
    not there takes an InnoDB gap lock, and two composes of neighbouring message ids doing delete-then-insert
    deadlock on each other's gap (seen under load: error 1213). The plain read is safe because the caller holds the
    message row's lock, so no other compose of this message runs meanwhile. ``never_composed`` (the row had no
    ``processed_at``, which the transaction that stores a copy always sets) skips the read: there is no copy."""
    earlier = (
        None
        if never_composed
        else await session.scalar(select(MessageContent.message_id).where(MessageContent.message_id == message.id))
    )
    if earlier is not None:
        await session.execute(delete(MessageContent).where(MessageContent.message_id == message.id))
    content = mime if isinstance(mime, Hollow) else Hollow(mime)
    await session.execute(
        insert(MessageContent).values(
            message_id=message.id,
            mime=_blob(session, content.mime),
            attachment_slots=content.slots_json,
            created_at=now,
        )
    )
    message.status = MessageStatus.RENDERED.value
    message.error_message = None


def stop(message: Message, stopped: Stopped) -> None:
    message.status = MessageStatus.FAILED.value
    message.error_message = stopped.error


async def fail_unfinished(session: AsyncSession, message_id: str, error: str) -> bool:
    """Mark a message that is still ``queued``/``processing`` ``failed``; ``False`` when it had moved on."""
    result = await session.execute(
        update(Message)
        .where(
            Message.id == message_id, Message.status.in_([MessageStatus.QUEUED.value, MessageStatus.PROCESSING.value])
        )
        .values(status=MessageStatus.FAILED.value, error_message=error)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
