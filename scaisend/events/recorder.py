"""The only writer of ``email_events`` (docs/architecture.md, D27, stage 4). Every outcome of every stage goes through
:func:`record_event`, which stores the event once, counts it into ``daily_stats`` and fans it out to the tenant's
webhooks (``webhook_deliveries`` rows, docs/webhooks.md) in the same transaction. The delivery jobs are enqueued after the
commit by the unit of work's owner (:mod:`scaisend.webhooks.dispatch`), or within a minute by the sweep.

Dedupe: a caller that may run twice for the same outcome (a retried job) passes ``dedupe_key``; the event id is then
derived from (message, type, key) and a second call records nothing. Other events get a fresh ``evt_`` id.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.events.types import EventType
from scaisend.ids import new_id
from scaisend.models import EmailEvent
from scaisend.stats.counters import count_event
from scaisend.webhooks.fanout import fan_out

logger = logging.getLogger(__name__)


def derived_event_id(message_id: str, event_type: str, dedupe_key: str) -> str:
    digest = hashlib.sha256(f"{message_id}|{event_type}|{dedupe_key}".encode()).hexdigest()
    return f"evt_{digest[:26]}"


async def record_event(
    session: AsyncSession,
    *,
    tenant_id: str,
    message_id: str,
    event_type: EventType | str,
    recipient_email: str,
    occurred_at: datetime,
    metadata: dict[str, Any] | None = None,
    categories: list[str] | None = None,
    dedupe_key: str | None = None,
) -> EmailEvent | None:
    """Store one event, count it and write its webhook deliveries; ``None`` when ``dedupe_key`` shows it was
    already recorded."""
    kind = EventType(event_type)
    if dedupe_key is not None:
        event_id = derived_event_id(message_id, kind.value, dedupe_key)
        if await session.scalar(select(EmailEvent.event_id).where(EmailEvent.event_id == event_id).limit(1)):
            return None
    else:
        event_id = new_id("evt")
    data = dict(metadata or {})
    event = EmailEvent(
        event_id=event_id,
        occurred_at=occurred_at,
        tenant_id=tenant_id,
        message_id=message_id,
        event_type=kind.value,
        recipient_email=recipient_email,
        data=data,
    )
    session.add(event)
    await session.flush()
    await count_event(
        session,
        tenant_id=tenant_id,
        day=occurred_at.date(),
        event_type=kind,
        categories=categories or [],
        metadata=data,
    )
    await fan_out(session, event, categories)
    logger.info(
        "event recorded",
        extra={"event_type": kind.value, "event_id": event_id, "message_id": message_id, "tenant_id": tenant_id},
    )
    return event
