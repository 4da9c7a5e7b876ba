"""A message that has already gone out (status ``delivered``), for the stages that act after delivery: tracking
hits, inbound DSNs and complaints."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import Message, MessageStatus


@dataclass(frozen=True)
class SentMessage:
    id: str
    tenant_id: str
    recipient: str


async def make_sent_message(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    *,
    asm_group_id: int | None = None,
    categories: list[str] | None = None,
) -> SentMessage:
    recipient = f"user-{uuid.uuid4().hex[:8]}@recipient.example"
    message_id = new_id("msg")
    async with unit_of_work(maker) as session:
        session.add(
            Message(
                id=message_id,
                tenant_id=tenant_id,
                status=MessageStatus.DELIVERED,
                from_email="sender@sender.example",
                to_emails=[recipient],
                categories=categories if categories is not None else ["receipts"],
                personalization={"to": [{"email": recipient}]},
                custom_args={},
                asm_group_id=asm_group_id,
                delivered_at=datetime.now(UTC),
            )
        )
    return SentMessage(message_id, tenant_id, recipient)
