"""Factories for stats tests: message rows carrying categories, and events recorded through the real recorder
(``record_event``, which counts them live into ``daily_stats``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.events.recorder import record_event
from scaisend.events.types import EventType
from scaisend.ids import new_id
from scaisend.models import DailyStat, Message, MessageStatus


async def make_message(
    maker: async_sessionmaker[AsyncSession], tenant_id: str, categories: list[str] | None = None
) -> Message:
    async with unit_of_work(maker) as session:
        message = Message(
            id=new_id("msg"),
            tenant_id=tenant_id,
            status=MessageStatus.SENT.value,
            from_email="news@example.test",
            to_emails=["reader@example.test"],
            categories=categories or [],
        )
        session.add(message)
    return message


async def record(
    maker: async_sessionmaker[AsyncSession],
    message: Message,
    event_type: EventType,
    at: datetime,
    *,
    recipient: str = "reader@example.test",
    dedupe_key: str | None = None,
    **metadata: Any,
) -> None:
    """One event of ``message`` at ``at``, through the recorder, with the message's categories."""
    async with unit_of_work(maker) as session:
        await record_event(
            session,
            tenant_id=message.tenant_id,
            message_id=message.id,
            event_type=event_type,
            recipient_email=recipient,
            occurred_at=at,
            metadata=metadata,
            categories=list(message.categories),
            dedupe_key=dedupe_key,
        )


async def wipe_daily_stats(maker: async_sessionmaker[AsyncSession], tenant_id: str) -> None:
    """Lose the tenant's counters, as a crashed or hand-edited database might."""
    async with unit_of_work(maker) as session:
        await session.execute(delete(DailyStat).where(DailyStat.tenant_id == tenant_id))
