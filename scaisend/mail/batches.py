"""Batches (docs/sending.md): an id from ``POST /v3/mail/batch`` that sends carry in ``batch_id``, so their messages can be
counted and cancelled together. Functions flush, never commit.

- A batch is ``active`` until cancelled; cancelling is final and idempotent.
- Cancelling marks every ``queued`` or ``processing`` message of the batch ``cancelled`` (compose checks the status
  before working, so a cancelled message's job does nothing); messages already further along are left alone.
- A send naming a cancelled batch is refused (400), so nothing new joins it.
- Errors use SendGrid's shape; another tenant's batch is 404 like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import FieldError, SendGridError
from scaisend.ids import new_id
from scaisend.mail import repository
from scaisend.mail.error_messages import help_url
from scaisend.mail.schemas import BatchStatus
from scaisend.models import Batch, MessageStatus

ACTIVE = "active"
CANCELLED = "cancelled"


class BatchNotFoundError(SendGridError):
    def __init__(self, batch_id: str) -> None:
        super().__init__(
            [FieldError(f"Batch not found: {batch_id}", "batch_id", help_url("batch_id"))], status_code=404
        )


async def create_batch(session: AsyncSession, tenant_id: str, now: datetime) -> Batch:
    batch = Batch(id=new_id("batch"), tenant_id=tenant_id, status=ACTIVE, created_at=now, updated_at=now)
    session.add(batch)
    await session.flush()
    return batch


async def get_batch(session: AsyncSession, tenant_id: str, batch_id: str, *, lock: str | None = None) -> Batch:
    batch = await repository.get_batch(session, tenant_id, batch_id, lock=lock)
    if batch is None:
        raise BatchNotFoundError(batch_id)
    return batch


async def batch_status(session: AsyncSession, batch: Batch) -> BatchStatus:
    """The batch and how many of its messages are in each status (every status listed, zeros included)."""
    found = await repository.batch_counts(session, batch.tenant_id, batch.id)
    counts = {status.value: found.get(status.value, 0) for status in MessageStatus}
    state: Literal["active", "cancelled"] = "cancelled" if batch.status == CANCELLED else "active"
    return BatchStatus(
        batch_id=batch.id, status=state, total=sum(counts.values()), counts=counts, created_at=batch.created_at
    )


async def cancel_batch(session: AsyncSession, tenant_id: str, batch_id: str, now: datetime) -> Batch:
    """Cancel the batch and its queued/processing messages (the batch row is locked while doing so)."""
    batch = await get_batch(session, tenant_id, batch_id, lock="update")
    batch.status = CANCELLED
    batch.updated_at = now
    await repository.cancel_batch_messages(session, tenant_id, batch_id, now)
    await session.flush()
    return batch
