"""What an inbound report does (docs/inbound.md, D12, D41, D11): a DSN's failed entries about the recipient its signed
return path was made for become ``bounce`` (or ``blocked``) events on the original message, with hard bounces and
blocks added to the tenant's bounce list; ``Action: delayed`` only counts, it never suppresses; an ARF complaint proven
by a signed return path becomes a ``spam_report`` event and a spam-report suppression for that recipient. A report
without that proof (unsigned, wrongly signed, or about someone else) changes nothing: it is kept and counted
(``scaisend_smtp_inbound_unverified_reports_total``). Anything unparseable or unmatched is kept on disk for inspection
and counted, never raised."""

from __future__ import annotations

import asyncio
import email
import enum
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend import metrics
from scaisend.clock import Clock
from scaisend.db.session import unit_of_work
from scaisend.delivery.bounce_classifier import classify
from scaisend.delivery.envelope import ReturnPathSigner
from scaisend.delivery.result import Outcome
from scaisend.events.recorder import record_event
from scaisend.events.types import EventType
from scaisend.inbound.arf import ArfReport, parse_arf
from scaisend.inbound.dsn import DsnRecipient, DsnReport, parse_dsn
from scaisend.inbound.matcher import Match, Proof, match_report
from scaisend.inbound.plain_bounce import parse_plain_bounce
from scaisend.inbound.quarantine import quarantine
from scaisend.logs import bind
from scaisend.models import MessageStatus
from scaisend.settings import Settings
from scaisend.suppressions.service import add_bounce, add_spam_report
from scaisend.tracking.service import Hit, UnsubscribeAction, apply_unsubscribe, tracked_message
from scaisend.tracking.tokens import TokenKind, verify_token

logger = logging.getLogger(__name__)
# What a report needs (its headers, the human-readable text, the machine-readable part naming one recipient, the
# original's headers) comes first (RFC 3464 §2, RFC 5965 §2); the rest, up to INBOUND_MAX_MESSAGE_BYTES, is kept in
# quarantine but never parsed. The stdlib parser costs about 4 us per MIME part or report block: 5 MiB of crafted
# blocks took 18 s, 128 KiB takes under half a second (D43).
MAX_PARSED_BYTES = 128 * 1024
# The plain-bounce detectors (third-party heuristics, some of whose patterns are quadratic in a line's length) see
# less: the first 32 KiB, each line cut at 256 bytes. Real notices name the recipient and reply on short lines near
# the top; a crafted 128 KiB of 1000-byte lines took up to 16 s before the cut (D44).
PLAIN_BOUNCE_BYTES = 32 * 1024
PLAIN_BOUNCE_LINE = 256


def clipped(raw: bytes) -> bytes:
    """The part of ``raw`` the plain-bounce detectors read."""
    return b"\n".join(line[:PLAIN_BOUNCE_LINE] for line in raw[:PLAIN_BOUNCE_BYTES].split(b"\n"))


_LEADING_CODE_RE = re.compile(r"^\s*[245]\d\d[ -]")
_MAILTO_SUBJECT_RE = re.compile(r"unsubscribe-([A-Za-z0-9_-]+)")


class InboundOutcome(enum.StrEnum):
    PARSED = "parsed"
    UNMATCHED = "unmatched"
    UNPARSEABLE = "unparseable"
    UNVERIFIED = "unverified"  # matched a message, but no signed return path proved it (D41): nothing changed


def _reply_text(recipient: DsnRecipient) -> str:
    """The diagnostic without its reply code(s) (Gmail repeats ``550-5.1.1`` on every line), led by the status."""
    text = recipient.diagnostic
    while _LEADING_CODE_RE.match(text):
        text = _LEADING_CODE_RE.sub("", text, count=1)
    text = re.sub(r"\s[245]\d\d[ -]\d\.\d{1,3}\.\d{1,3}\s", " ", text)
    if recipient.status and not text.startswith(recipient.status):
        text = f"{recipient.status} {text}"
    return text.strip()


async def _record_dsn(session: AsyncSession, match: Match, report: DsnReport, clock: Clock) -> int:
    """Bounce events (and hard-bounce suppressions) for the report's failed entries about the signed recipient; an
    entry naming anyone else is ignored (D41)."""
    message, recipient = match.message, match.recipient
    assert recipient is not None
    recorded = 0
    for rcpt in report.recipients:
        if not rcpt.failed or not rcpt.names(recipient):  # delayed, delivered, relayed: never a suppression
            continue
        text = _reply_text(rcpt)
        verdict = classify(rcpt.reply_code if rcpt.status.startswith("5") else 550, text)
        bounce_type = (verdict.bounce_type or "hard").lower()
        blocked = verdict.outcome is Outcome.BLOCKED
        reason = f"{rcpt.reply_code} {text}"
        event = await record_event(
            session,
            tenant_id=message.tenant_id,
            message_id=message.id,
            event_type=EventType.BLOCKED if blocked else EventType.BOUNCE,
            recipient_email=recipient,
            occurred_at=clock.now(),
            categories=message.categories,
            metadata={
                "reason": reason,
                "status": rcpt.status,
                "bounce_type": bounce_type,
                "source": report.source,
                "bounce_classification": str(verdict.classification) if verdict.classification else None,
            },
            dedupe_key=f"dsn:{recipient.lower()}",
        )
        if event is None:
            continue
        recorded += 1
        if bounce_type in ("hard", "block"):
            await add_bounce(session, message.tenant_id, recipient, reason, bounce_type, rcpt.status, message.id)
    if recorded and message.status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.SENDING):
        message.status = MessageStatus.BOUNCED
    return recorded


async def _record_arf(session: AsyncSession, match: Match, report: ArfReport, clock: Clock) -> None:
    """A spam report by the signed recipient (the report's own recipient fields prove nothing, D41)."""
    message, recipient = match.message, match.recipient
    assert recipient is not None
    if report.feedback_type not in ("abuse", "fraud", ""):
        return
    event = await record_event(
        session,
        tenant_id=message.tenant_id,
        message_id=message.id,
        event_type=EventType.SPAM_REPORT,
        recipient_email=recipient,
        occurred_at=clock.now(),
        categories=message.categories,
        metadata={"feedback_type": report.feedback_type or "abuse", "user_agent": report.user_agent},
        dedupe_key=f"arf:{recipient.lower()}",
    )
    if event is not None:
        await add_spam_report(
            session, message.tenant_id, recipient, reason=f"FBL complaint ({report.user_agent})", message_id=message.id
        )


async def _mailto_unsubscribe(
    maker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock, subject: str
) -> bool:
    """The ``mailto:`` half of ``List-Unsubscribe``: mail to ``unsubscribe@BOUNCE_DOMAIN`` whose subject is
    ``unsubscribe-<token>`` unsubscribes like the one-click POST does."""
    match = _MAILTO_SUBJECT_RE.search(subject)
    token = verify_token(settings.secret_keys, match.group(1), kind=TokenKind.UNSUBSCRIBE) if match else None
    if token is None:
        return False
    async with unit_of_work(maker) as session:
        message = await tracked_message(session, token)
        if message is None:
            return False
        bind(message_id=message.id, tenant_id=message.tenant_id, request_id=message.api_request_id)
        action = UnsubscribeAction.UNSUBSCRIBE_GROUP if message.asm_group_id else UnsubscribeAction.UNSUBSCRIBE_ALL
        hit = Hit(at=clock.now(), ip=None, user_agent="mailto")
        return await apply_unsubscribe(session, message, token, action, message.asm_group_id, hit)


def _unverified(kind: str, reason: str, match: Match) -> None:
    metrics.INBOUND_UNVERIFIED.labels(kind, reason, match.message.tenant_id).inc()
    logger.warning(
        "inbound report not proven by a signed return path; nothing suppressed",
        extra={"report": kind, "reason": reason, "tenant_id": match.message.tenant_id},
    )


@dataclass(frozen=True)
class ReadReport:
    subject: str
    dsn: DsnReport | None
    arf: ArfReport | None


def read_report(raw: bytes) -> ReadReport:
    """Parse the first :data:`MAX_PARSED_BYTES` of ``raw`` (the CPU-bound part; :func:`handle_inbound` runs it in a
    thread so the event loop, which also runs outbound delivery, never waits for it)."""
    head = raw if len(raw) <= MAX_PARSED_BYTES else raw[:MAX_PARSED_BYTES].rpartition(b"\n")[0] + b"\n"
    parsed = email.message_from_bytes(head, policy=policy.compat32)
    is_report = parsed.get_content_type() == "multipart/report"
    dsn = parse_dsn(parsed) if is_report else None
    arf = parse_arf(parsed) if is_report else None
    if dsn is None and arf is None:  # not RFC 3464/5965: perhaps a plain-text bounce (D44)
        dsn = parse_plain_bounce(email.message_from_bytes(clipped(head), policy=policy.compat32))
    return ReadReport(str(parsed.get("Subject", "")), dsn, arf)


async def _keep(settings: Settings, raw: bytes, reason: str) -> None:
    await asyncio.to_thread(quarantine, settings, raw, reason)


async def handle_inbound(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    envelope_recipients: Sequence[str],
    raw: bytes,
) -> InboundOutcome:
    """Process one inbound message; returns how it went and never raises for bad input."""
    report = await asyncio.to_thread(read_report, raw)
    dsn, arf = report.dsn, report.arf
    unsubscribe_mailbox = f"unsubscribe@{settings.BOUNCE_DOMAIN}".lower()
    if any(r.strip("<>").lower() == unsubscribe_mailbox for r in envelope_recipients):
        if await _mailto_unsubscribe(maker, settings, clock, report.subject):
            return InboundOutcome.PARSED
        await _keep(settings, raw, "unmatched")
        return InboundOutcome.UNMATCHED
    kind, counter = ("fbl", metrics.INBOUND_FBL) if arf is not None else ("dsn", metrics.INBOUND_DSN)
    if dsn is None and arf is None:
        await _keep(settings, raw, "unparseable")
        metrics.INBOUND_DSN.labels(InboundOutcome.UNPARSEABLE).inc()
        return InboundOutcome.UNPARSEABLE
    # a DSN is proven only by the return path it was sent to; a complaint also by the envelope sender it quotes
    sources = [*envelope_recipients, *(arf.return_paths if arf is not None else [])]
    original = arf.original if arf is not None else dsn.original if dsn is not None else None
    signer = ReturnPathSigner.from_settings(settings)
    tokens = [
        verified
        for token in (arf.unsubscribe_tokens if arf is not None else [])
        if (verified := verify_token(settings.secret_keys, token, kind=TokenKind.UNSUBSCRIBE)) is not None
    ]
    outcome = InboundOutcome.PARSED
    async with unit_of_work(maker) as session:
        match = await match_report(session, signer, sources, original, settings.BOUNCE_DOMAIN, tokens)
        if match is not None:  # the report's lines name the message it answers and the request that sent it
            found = match.message
            bind(message_id=found.id, tenant_id=found.tenant_id, request_id=found.api_request_id)
        if match is None:
            outcome = InboundOutcome.UNMATCHED
        elif match.proof is not Proof.SIGNED:
            _unverified(kind, match.proof.value, match)
            outcome = InboundOutcome.UNVERIFIED
        elif arf is not None:
            await _record_arf(session, match, arf, clock)
        else:
            assert dsn is not None
            assert match.recipient is not None
            if not any(r.names(match.recipient) for r in dsn.recipients):
                _unverified(kind, "other_recipient", match)
                outcome = InboundOutcome.UNVERIFIED
            else:
                await _record_dsn(session, match, dsn, clock)
    if outcome is not InboundOutcome.PARSED:
        await _keep(settings, raw, outcome.value)
    counter.labels(outcome).inc()
    return outcome
