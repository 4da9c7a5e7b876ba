"""Queries of the accept stage (docs/sending.md). Every query takes the tenant id explicitly.

Batch reads lock: a send takes a shared lock on its batch row and a cancel an exclusive one, so a send either commits
before the cancel looks at the batch's messages (and is cancelled with them) or sees the batch cancelled (and is
refused). On InnoDB a locking read also sees the latest committed row, not the request's older snapshot.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import AsmGroup, Batch, Message, MessageStatus, SendRequest

CANCELLABLE: tuple[str, ...] = (MessageStatus.QUEUED.value, MessageStatus.PROCESSING.value)


async def get_batch(session: AsyncSession, tenant_id: str, batch_id: str, *, lock: str | None = None) -> Batch | None:
    """The tenant's batch; ``lock`` is ``"share"`` (a send using it) or ``"update"`` (cancelling it)."""
    stmt = select(Batch).where(Batch.id == batch_id, Batch.tenant_id == tenant_id)
    if lock is not None:
        stmt = stmt.with_for_update(read=lock == "share")
    return await session.scalar(stmt)


async def batch_counts(session: AsyncSession, tenant_id: str, batch_id: str) -> dict[str, int]:
    """How many of the batch's messages are in each status (statuses with none are absent)."""
    rows = await session.execute(
        select(Message.status, func.count())
        .where(Message.tenant_id == tenant_id, Message.batch_id == batch_id)
        .group_by(Message.status)
    )
    return {str(status): int(count) for status, count in rows}


async def cancel_batch_messages(session: AsyncSession, tenant_id: str, batch_id: str, now: datetime) -> int:
    """Mark the batch's queued and processing messages ``cancelled``; how many were."""
    result = await session.execute(
        update(Message)
        .where(Message.tenant_id == tenant_id, Message.batch_id == batch_id, Message.status.in_(CANCELLABLE))
        .values(status=MessageStatus.CANCELLED.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def existing_asm_groups(session: AsyncSession, tenant_id: str, group_ids: Collection[int]) -> frozenset[int]:
    """Those of ``group_ids`` that are the tenant's ASM groups."""
    if not group_ids:
        return frozenset()
    rows = await session.scalars(
        select(AsmGroup.id).where(AsmGroup.tenant_id == tenant_id, AsmGroup.id.in_(set(group_ids)))
    )
    return frozenset(rows)


async def add_send(session: AsyncSession, request: SendRequest, messages: Sequence[Message]) -> None:
    """Insert a send request, then its messages (they reference it); the caller commits."""
    session.add(request)
    await session.flush()
    session.add_all(messages)
    await session.flush()
