"""What a tracking hit does (docs/compose.md, docs/suppressions.md): opens and clicks become events (``unique`` on the first one
per message and recipient, which feeds ``unique_opens``/``unique_clicks``), unsubscribes and group changes update the
suppression lists and emit ``unsubscribe``/``group_unsubscribe``/``group_resubscribe``.

Uniqueness rides on the recorder's dedupe key: the first open of a recipient is stored under a derived event id, so
a second one finds it and is recorded as a plain open. Two opens landing in the same few milliseconds could both
count as unique; that race is accepted and documented (docs/tracking.md)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.compose.recipients import recipients_of
from scaisend.events.recorder import record_event
from scaisend.events.types import EventType
from scaisend.logs import bind
from scaisend.models import AsmGroup, Message, SuppressionKind
from scaisend.suppressions import repository as suppression_repository
from scaisend.suppressions.groups import add_group_unsubscribes, remove_group_unsubscribe
from scaisend.suppressions.service import add_unsubscribes, lookup_email
from scaisend.tracking.tokens import TrackingToken


class UnsubscribeAction(enum.StrEnum):
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    UNSUBSCRIBE_GROUP = "unsubscribe_group"
    RESUBSCRIBE_GROUP = "resubscribe_group"


@dataclass(frozen=True)
class Hit:
    """Who hit a tracking URL, as far as the request tells."""

    at: datetime
    ip: str | None
    user_agent: str | None


def is_recipient(message: Message, email: str) -> bool:
    """True when ``email`` is a ``to``, ``cc`` or ``bcc`` recipient of ``message`` (case-insensitively)."""
    wanted = email.strip().lower()
    return any(r.email.lower() == wanted for r in recipients_of(message.personalization or {})) or any(
        str(address).lower() == wanted for address in message.to_emails or []
    )


async def tracked_message(session: AsyncSession, token: TrackingToken) -> Message | None:
    """The live (non-sandbox) message a token belongs to, when the token's recipient is one of its recipients (a
    token signed with a leaked key for a stranger's address finds nothing); the rest of the request's lines name it
    (its ``message_id`` and ``tenant_id``; ``request_id`` stays the hit's own, docs/observability.md)."""
    message = await session.get(Message, token.message_id)
    if message is None or message.sandbox or not is_recipient(message, token.recipient):
        return None
    bind(message_id=message.id, tenant_id=message.tenant_id)
    return message


async def _record_engagement(
    session: AsyncSession, message: Message, recipient: str, kind: EventType, hit: Hit, extra: dict[str, str]
) -> None:
    metadata = {"ip": hit.ip, "user_agent": hit.user_agent, **extra}
    common: dict[str, Any] = {
        "tenant_id": message.tenant_id,
        "message_id": message.id,
        "event_type": kind,
        "recipient_email": recipient,
        "occurred_at": hit.at,
        "categories": message.categories,
    }
    first = await record_event(
        session, **common, metadata={**metadata, "unique": True}, dedupe_key=f"unique:{recipient}"
    )
    if first is None:
        await record_event(session, **common, metadata={**metadata, "unique": False})


async def record_open(session: AsyncSession, message: Message, token: TrackingToken, hit: Hit) -> None:
    await _record_engagement(session, message, token.recipient, EventType.OPEN, hit, {})


async def record_click(session: AsyncSession, message: Message, token: TrackingToken, url: str, hit: Hit) -> None:
    await _record_engagement(session, message, token.recipient, EventType.CLICK, hit, {"url": url})


async def tenant_groups(session: AsyncSession, tenant_id: str) -> list[AsmGroup]:
    return await suppression_repository.groups(session, tenant_id)


async def unsubscribed_groups(session: AsyncSession, tenant_id: str, recipient: str) -> set[int]:
    rows = await suppression_repository.by_email(
        session, suppression_repository.Selector(tenant_id, SuppressionKind.GROUP_UNSUBSCRIBE), lookup_email(recipient)
    )
    return {r.group_id for r in rows if r.group_id is not None}


async def apply_unsubscribe(
    session: AsyncSession,
    message: Message,
    token: TrackingToken,
    action: UnsubscribeAction,
    group_id: int | None,
    hit: Hit,
) -> bool:
    """Carry out a landing-page or one-click action; ``False`` when the group is not the tenant's or the token's
    recipient is not a recipient of ``message`` (nothing is suppressed then)."""
    recipient = token.recipient
    if token.message_id != message.id or not is_recipient(message, recipient):
        return False
    common: dict[str, Any] = {
        "tenant_id": message.tenant_id,
        "message_id": message.id,
        "recipient_email": recipient,
        "occurred_at": hit.at,
        "categories": message.categories,
    }
    meta = {"ip": hit.ip, "user_agent": hit.user_agent}
    if action is UnsubscribeAction.UNSUBSCRIBE_ALL:
        await add_unsubscribes(session, message.tenant_id, [recipient], message_id=message.id, now=hit.at)
        await record_event(
            session, **common, event_type=EventType.UNSUBSCRIBE, metadata=meta, dedupe_key=f"unsubscribe:{recipient}"
        )
        return True
    group = await suppression_repository.group(session, message.tenant_id, group_id) if group_id else None
    if group is None:
        return False
    meta = {**meta, "group_id": str(group.id)}
    if action is UnsubscribeAction.UNSUBSCRIBE_GROUP:
        await add_group_unsubscribes(session, group, [recipient], message_id=message.id, now=hit.at)
        await record_event(session, **common, event_type=EventType.GROUP_UNSUBSCRIBE, metadata=meta)
    else:
        await remove_group_unsubscribe(session, group, recipient)
        await record_event(session, **common, event_type=EventType.GROUP_RESUBSCRIBE, metadata=meta)
    return True
