"""Finding the original message of a DSN or complaint (D12): the VERP envelope recipient
``bounces+<message_id>@BOUNCE_DOMAIN`` first, then the embedded original's ``X-ScaiSend-Message-Id``, then its
``Message-ID`` (``<msg_…@SMTP_HOSTNAME>``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import Message as EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.delivery.envelope import message_id_from_verp
from scaisend.models import Message

_MESSAGE_ID_RE = re.compile(r"\b(msg_[0-9a-z]{26})\b")


def verp_message_id(address: str, bounce_domain: str) -> str | None:
    """``bounces+msg_…@bounces.example`` → ``msg_…`` (the delivery stage's VERP form, read case-insensitively, as
    mail systems may change the case of a local part); ``None`` for any other address."""
    found = message_id_from_verp(address, bounce_domain)
    return found.lower() if found and _MESSAGE_ID_RE.fullmatch(found.lower()) else None


def candidate_ids(envelope_recipients: Iterable[str], original: EmailMessage | None, bounce_domain: str) -> list[str]:
    """Message ids to try, most reliable first."""
    found = [mid for rcpt in envelope_recipients if (mid := verp_message_id(rcpt, bounce_domain))]
    if original is not None:
        for header in ("X-ScaiSend-Message-Id", "Message-ID", "Return-Path"):
            match = _MESSAGE_ID_RE.search(str(original.get(header, "")).lower())
            if match:
                found.append(match.group(1))
    return list(dict.fromkeys(found))


async def find_message(session: AsyncSession, ids: Iterable[str]) -> Message | None:
    for message_id in ids:
        message = await session.get(Message, message_id)
        if message is not None:
            return message
    return None
