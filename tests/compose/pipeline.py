"""What a user can observe of a composed message: its row, its events, its stored MIME and its delivery job."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from typing import Any

from arq.jobs import Job
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.models import EmailEvent, Message, MessageContent
from scaisend.queues import deserialize_job


async def message_row(ctx: dict[str, Any], message_id: str) -> Message:
    async with unit_of_work(ctx["maker"]) as session:
        row = await session.scalar(select(Message).where(Message.id == message_id))
    assert row is not None
    return row


async def events(ctx: dict[str, Any], message_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(event_type, recipient_email, metadata)`` of every event of the message, oldest first."""
    async with unit_of_work(ctx["maker"]) as session:
        rows = (
            await session.scalars(
                select(EmailEvent)
                .where(EmailEvent.message_id == message_id)
                .order_by(EmailEvent.occurred_at, EmailEvent.event_type)
            )
        ).all()
    return [(e.event_type, e.recipient_email, dict(e.data or {})) for e in rows]


async def stored_mime(ctx: dict[str, Any], message_id: str) -> bytes | None:
    async with unit_of_work(ctx["maker"]) as session:
        return await session.scalar(select(MessageContent.mime).where(MessageContent.message_id == message_id))


async def parsed_mime(ctx: dict[str, Any], message_id: str) -> EmailMessage:
    raw = await stored_mime(ctx, message_id)
    assert raw is not None, "no MIME stored"
    parsed = email.message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body_of(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


async def delivery_jobs(ctx: dict[str, Any]) -> list[str]:
    """Job ids waiting on this run's ``smtp:deliver`` queue (``ZRANGE``)."""
    return [j.decode() for j in await ctx["redis"].zrange(ctx["queues"].smtp_deliver, 0, -1)]


async def delivery_job_args(ctx: dict[str, Any], job_id: str) -> tuple[str, tuple[Any, ...]]:
    info = await Job(job_id, ctx["redis"], _queue_name=ctx["queues"].smtp_deliver, _deserializer=deserialize_job).info()
    assert info is not None, f"job {job_id} not in Redis"
    return info.function, tuple(info.args)
