"""From delivery results to what users see (docs/delivery.md, docs/compose.md, docs/suppressions.md, docs/webhooks.md, `scaisend/events/types.py`, D10, D11): events, bounce suppressions and the
message row. Everything here runs in the caller's transaction and never commits.

Events, through :func:`scaisend.events.recorder.record_event` only, each with ``dedupe_key="<attempt>:<recipient>"``
so a re-run of an attempt records nothing twice:

| result                          | event       | metadata                                                        |
|---------------------------------|-------------|-----------------------------------------------------------------|
| delivered                       | `delivered` | smtp_response, mx, tls, attempt                                 |
| deferred                        | `deferred`  | attempt, response, status, mx, tls, next_attempt_at             |
| bounced (hard, soft, expired)   | `bounce`    | reason, status, bounce_type, bounce_classification, mx, attempt |
| blocked (5.7.x)                 | `blocked`   | the same as `bounce`, bounce_type `block`                       |

Hard bounces and blocks put the recipient on the tenant's bounce list (bounce_type ``hard``/``block``). Soft bounces
(mailbox full, message too large, expiry after ``SMTP_MAX_AGE``) do not: the address is valid, the next message may
well get through (docs/compose.md, docs/suppressions.md lists bounces "at send time"; we read that as the permanent ones, as SendGrid does).

The message's status after an attempt, over every recipient (this attempt's results and the events of earlier
attempts since the message was last rendered, so a message the user retries starts afresh):

- some recipient still deferred → ``rendered`` with ``next_attempt_at`` (the next attempt is queued);
- else at least one recipient accepted → ``delivered`` (``delivered_at`` set); if others bounced or were blocked,
  ``error_message`` says how many and why the first did;
- else → ``bounced``, ``error_message`` = the first bounce's reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.delivery.result import BounceType, DeliveryResult, Outcome
from scaisend.events.recorder import record_event
from scaisend.events.types import EventType
from scaisend.models import EmailEvent, Message, MessageStatus
from scaisend.suppressions.service import add_bounce

CLOCK_SKEW = timedelta(minutes=2)
_FINAL_EVENTS: dict[str, Outcome] = {
    EventType.DELIVERED.value: Outcome.DELIVERED,
    EventType.BOUNCE.value: Outcome.BOUNCED,
    EventType.BLOCKED.value: Outcome.BLOCKED,
}


@dataclass(frozen=True)
class Settled:
    """How an earlier attempt settled a recipient: the outcome and, for bounces and blocks, the reason."""

    outcome: Outcome
    reason: str | None = None


@dataclass(frozen=True)
class History:
    """What the events of a message say before an attempt: the recipients compose dropped (lower-case) and those
    earlier attempts settled, with how."""

    dropped: frozenset[str]
    settled: dict[str, Settled]


async def recipient_history(session: AsyncSession, tenant_id: str, message_id: str, rendered_at: datetime) -> History:
    """ONE read of the message's ``dropped`` and final events. Settled recipients count only events since the
    stored MIME was rendered (``rendered_at``): a message the user retries is composed again and starts afresh. The
    window opens :data:`CLOCK_SKEW` early, because compose and delivery may run on hosts whose clocks differ a
    little; a retry within that time of the previous round's outcomes may therefore skip recipients already settled,
    never send to one twice."""
    rows = await session.execute(
        select(EmailEvent.recipient_email, EmailEvent.event_type, EmailEvent.data, EmailEvent.occurred_at)
        .where(
            EmailEvent.tenant_id == tenant_id,
            EmailEvent.message_id == message_id,
            EmailEvent.event_type.in_([EventType.DROPPED.value, *_FINAL_EVENTS]),
        )
        .order_by(EmailEvent.occurred_at)
    )
    since = rendered_at - CLOCK_SKEW
    dropped: set[str] = set()
    settled: dict[str, Settled] = {}
    for email, kind, data, occurred_at in rows:
        if kind == EventType.DROPPED.value:
            dropped.add(email.lower())
        elif occurred_at >= since:
            settled[email.lower()] = Settled(_FINAL_EVENTS[kind], (data or {}).get("reason"))
    return History(frozenset(dropped), settled)


def event_for(
    result: DeliveryResult, attempt: int, next_attempt_at: datetime | None
) -> tuple[EventType, dict[str, Any]]:
    """The event type and metadata a result is recorded as (the module's table)."""
    if result.outcome is Outcome.DELIVERED:
        return EventType.DELIVERED, {
            "smtp_response": result.response,
            "mx": result.mx_host,
            "tls": result.tls,
            "attempt": attempt,
        }
    if result.outcome is Outcome.DEFERRED:
        return EventType.DEFERRED, {
            "attempt": attempt,
            "response": result.response,
            "status": result.enhanced_status,
            "mx": result.mx_host,
            "tls": result.tls,
            "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None,
        }
    metadata = {
        "reason": result.response,
        "status": result.enhanced_status,
        "bounce_type": result.bounce_type.value if result.bounce_type else None,
        "bounce_classification": result.classification.value if result.classification else None,
        "mx": result.mx_host,
        "attempt": attempt,
    }
    if result.expired:
        metadata["expired"] = True
    return (EventType.BLOCKED if result.outcome is Outcome.BLOCKED else EventType.BOUNCE), metadata


async def record_results(
    session: AsyncSession,
    message: Message,
    results: Iterable[DeliveryResult],
    *,
    attempt: int,
    now: datetime,
    next_attempt_at: datetime | None,
) -> None:
    """One event per result, and the bounce-list entry for hard bounces and blocks."""
    for result in results:
        event_type, metadata = event_for(result, attempt, next_attempt_at)
        await record_event(
            session,
            tenant_id=message.tenant_id,
            message_id=message.id,
            event_type=event_type,
            recipient_email=result.recipient,
            occurred_at=now,
            metadata=metadata,
            categories=list(message.categories or []),
            dedupe_key=f"{attempt}:{result.recipient.lower()}",
        )
        if result.bounce_type in (BounceType.HARD, BounceType.BLOCK) and result.outcome.is_final:
            await add_bounce(
                session,
                message.tenant_id,
                result.recipient,
                result.response,
                result.bounce_type.value,
                result.enhanced_status,
                message.id,
                now=now,
            )


def settle(
    message: Message,
    results: list[DeliveryResult],
    earlier: Mapping[str, Settled],
    *,
    attempt: int,
    now: datetime,
    next_attempt_at: datetime | None,
) -> None:
    """Set the message's status and delivery fields after ``attempt`` (the module's rules)."""
    everyone = dict(earlier) | {r.recipient.lower(): Settled(r.outcome, r.response) for r in results}
    outcomes = {email: settled.outcome for email, settled in everyone.items()}
    deferred = [r for r in results if r.outcome is Outcome.DEFERRED]
    failed = [s.reason for s in everyone.values() if s.outcome in (Outcome.BOUNCED, Outcome.BLOCKED)]
    message.attempts = attempt
    if results:
        message.last_response = (deferred or results)[-1].response
    if any(r.outcome is Outcome.DELIVERED for r in results):
        message.sent_at = message.sent_at or now  # the first hand-off to an MX
    if deferred:
        message.status = MessageStatus.RENDERED.value
        message.next_attempt_at = next_attempt_at
        return
    message.next_attempt_at = None
    delivered = sum(1 for o in outcomes.values() if o is Outcome.DELIVERED)
    not_delivered = len(outcomes) - delivered
    if delivered:
        message.status = MessageStatus.DELIVERED.value
        message.delivered_at = message.delivered_at or now
        if not_delivered:
            reason = f": {failed[0]}" if failed and failed[0] else ""
            message.error_message = f"{not_delivered} of {len(outcomes)} recipients not delivered{reason}"
    else:
        message.status = MessageStatus.BOUNCED.value
        message.error_message = (failed[0] if failed else None) or "No recipient accepted the message"
