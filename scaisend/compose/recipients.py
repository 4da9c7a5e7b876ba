"""The recipients of one message (docs/sending.md personalizations, docs/compose.md, docs/suppressions.md): ``to``, ``cc`` and ``bcc`` of its
personalization, in that order, each address once (case-insensitively).

The counting rule (D5 revised) lives here, in :func:`processed_recipients`: every recipient of the personalization
(``to``, ``cc`` and ``bcc``) is either dropped (a ``dropped`` event, suppressed at compose) or processed (a
``processed`` event when the worker takes the message), never both, so ``requests`` = processed + dropped counts
recipients, as SendGrid counts them. The processed recipients are exactly the RCPT TO set of every delivery attempt
(:func:`envelope_recipients`), so each delivered/bounced/deferred/blocked event answers a processed recipient.

Compose drops suppressed recipients with a ``dropped`` event each and leaves them out of the ``To``/``Cc`` headers.
The delivery stage sends to :func:`envelope_recipients`: every recipient of the personalization except those with a
``dropped`` event on the message, so the events stay the one record of who was dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.events.types import EventType
from scaisend.models import EmailEvent, Message

FIELDS: tuple[str, ...] = ("to", "cc", "bcc")
# Before D5 was revised, a message got ONE processed event, for its first recipient, under this dedupe key;
# ``POST /v3/stats/rebuild`` recognises those events by their derived event id and counts them per recipient.
LEGACY_PROCESSED_DEDUPE_KEY = "processed"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    field: str  # to | cc | bcc


def recipients_of(personalization: Mapping[str, Any]) -> list[Recipient]:
    """The personalization's recipients in ``to``, ``cc``, ``bcc`` order, without repeats."""
    seen: set[str] = set()
    found: list[Recipient] = []
    for field in FIELDS:
        for entry in personalization.get(field) or []:
            email = str(entry.get("email") or "").strip() if isinstance(entry, Mapping) else ""
            if not email or email.lower() in seen:
                continue
            seen.add(email.lower())
            name = entry.get("name")
            found.append(Recipient(email, str(name) if name else None, field))
    return found


def without(recipients: Iterable[Recipient], dropped: Iterable[str]) -> list[Recipient]:
    gone = {email.lower() for email in dropped}
    return [r for r in recipients if r.email.lower() not in gone]


def processed_dedupe_key(email: str) -> str:
    """A recipient's ``processed`` is recorded once per message, however often the compose job runs."""
    return f"processed:{email.lower()}"


def processed_recipients(personalization: Mapping[str, Any], dropped: Iterable[str]) -> list[Recipient]:
    """D5 revised: the recipients that get one ``processed`` event each (and count once in ``requests``): every
    ``to``, ``cc`` and ``bcc`` recipient of the personalization except the ``dropped`` ones."""
    return without(recipients_of(personalization), dropped)


async def dropped_emails(session: AsyncSession, message: Message) -> set[str]:
    """Lowercased addresses with a ``dropped`` event on ``message``."""
    rows = await session.scalars(
        select(EmailEvent.recipient_email).where(
            EmailEvent.tenant_id == message.tenant_id,
            EmailEvent.message_id == message.id,
            EmailEvent.event_type == EventType.DROPPED.value,
        )
    )
    return {email.lower() for email in rows}


def envelope_of(message: Message, dropped: Iterable[str]) -> list[str]:
    """The RCPT TO addresses of ``message``: its ``to``, ``cc`` and ``bcc`` minus the ``dropped`` ones."""
    return [r.email for r in processed_recipients(message.personalization or {}, dropped)]


async def envelope_recipients(session: AsyncSession, message: Message) -> list[str]:
    """The RCPT TO addresses of ``message``: its ``to``, ``cc`` and ``bcc`` minus the recipients compose dropped."""
    return envelope_of(message, await dropped_emails(session, message))
