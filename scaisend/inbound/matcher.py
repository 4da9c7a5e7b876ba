"""Finding the original message of a report, and proving which of its recipients the report is about (D12, D41).

Proof comes only from a signed return path (:class:`~scaisend.delivery.envelope.ReturnPathSigner`): the VERP address
a DSN was sent to, or, for a complaint, the original's ``Return-Path`` or the report's ``Original-Mail-From`` (both
copy the envelope sender a mailbox provider received). Its MAC names exactly one recipient of the message, and that
recipient is the only address the report may bounce or suppress. Without a valid signature the message is still
looked up, by the VERP id or the embedded original's ``X-ScaiSend-Message-Id`` / ``Message-ID``, only so that the
report can be counted against its tenant: such a match never records an event or suppresses anything.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message as EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.compose.recipients import recipients_of
from scaisend.delivery.envelope import ReturnPath, ReturnPathSigner, parse_return_path
from scaisend.models import Message

_MESSAGE_ID_RE = re.compile(r"\b(msg_[0-9a-z]{26})\b")  # bounded, one class: linear


class Proof(enum.StrEnum):
    SIGNED = "signed"  # a return path signed for one recipient of the message
    UNSIGNED = "unsigned"  # no signed return path anywhere (old mail, or an embedded-header match)
    BAD_SIGNATURE = "bad_signature"  # a MAC that verifies for no recipient of the message: forged or altered


@dataclass(frozen=True)
class Match:
    message: Message
    proof: Proof
    recipient: str | None = None  # with SIGNED: the recipient the return path was made for


def return_path_of(address: str, bounce_domain: str) -> ReturnPath | None:
    """``bounces+msg_….<mac>@bounces.example`` → its parts with the id lowercased (mail systems may change the case of
    a local part); ``None`` for any other address."""
    found = parse_return_path(address, bounce_domain)
    if found is None or not _MESSAGE_ID_RE.fullmatch(found.message_id.lower()):
        return None
    return ReturnPath(found.message_id.lower(), found.mac)


def verp_message_id(address: str, bounce_domain: str) -> str | None:
    found = return_path_of(address, bounce_domain)
    return found.message_id if found else None


def candidate_ids(envelope_recipients: Iterable[str], original: EmailMessage | None, bounce_domain: str) -> list[str]:
    """Message ids to try, most reliable first (for attribution only; ids prove nothing)."""
    found = [mid for rcpt in envelope_recipients if (mid := verp_message_id(rcpt, bounce_domain))]
    if original is not None:
        for header in ("X-ScaiSend-Message-Id", "Message-ID", "Return-Path"):
            match = _MESSAGE_ID_RE.search(str(original.get(header, "")).lower())
            if match:
                found.append(match.group(1))
    return list(dict.fromkeys(found))


def message_recipients(message: Message) -> list[str]:
    """Everyone the message was addressed to (``to``, ``cc``, ``bcc``)."""
    return [r.email for r in recipients_of(message.personalization or {})]


async def match_report(
    session: AsyncSession,
    signer: ReturnPathSigner,
    signed_sources: Iterable[str],
    original: EmailMessage | None,
    bounce_domain: str,
) -> Match | None:
    """The report's message with its proof. ``signed_sources`` are the addresses that may carry a signed return path
    (for a DSN, only the envelope recipients it was sent to); the first that verifies wins."""
    paths = [p for address in signed_sources if (p := return_path_of(address, bounce_domain))]
    for path in paths:
        message = await session.get(Message, path.message_id)
        if message is None:
            continue
        recipient = signer.signed_recipient(path, message_recipients(message))
        if recipient is not None:
            return Match(message, Proof.SIGNED, recipient)
    proof = Proof.BAD_SIGNATURE if any(p.mac for p in paths) else Proof.UNSIGNED
    for message_id in [*(p.message_id for p in paths), *candidate_ids([], original, bounce_domain)]:
        message = await session.get(Message, message_id)
        if message is not None:
            return Match(message, proof)
    return None
