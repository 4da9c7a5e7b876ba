"""Messages (docs/sending.md, D4, D48): reading them and the state rules of cancel, retry and fail. Functions flush, never commit;
state changes lock the message row first, so they never race the compose job (which holds the same lock).

State rules (docs/sending.md):

- cancel: only from ``queued`` or ``processing`` → ``cancelled``; any other status is 409 (a conflict with the
  message's current state, not a malformed request);
- retry: from ``processing``, ``sending``, ``failed`` or ``bounced`` → ``queued`` with the error cleared and a NEW
  ``process_email`` job (``process_email:<id>:retry-<n>``); anything else (``cancelled``, ``sandbox``, ``queued``, …)
  is 400;
- fail: any status that is not final → ``failed`` with ``error_message`` "Marked failed by user"; final statuses
  (``sent``, ``delivered``, ``bounced``, ``failed``, ``cancelled``, ``sandbox``) are 400.

:func:`requeue_stale_queued` is the safety net of the enqueue-after-commit guarantee: run periodically by the worker,
it enqueues again every message still ``queued`` after ``older_than``; arq refuses the ones whose job still waits.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError, ConflictError, NotFoundError
from scaisend.mail.jobs import process_email_for
from scaisend.messages import repository
from scaisend.messages.schemas import MessageDetail, MessageFilters, MessageList, MessageSummary
from scaisend.models import Message, MessageStatus
from scaisend.queues import Job, Queues, enqueue_jobs

logger = logging.getLogger(__name__)

S = MessageStatus
CANCELLABLE = frozenset({S.QUEUED, S.PROCESSING})
RETRYABLE = frozenset({S.PROCESSING, S.SENDING, S.FAILED, S.BOUNCED})
FINAL = frozenset({S.SENT, S.DELIVERED, S.BOUNCED, S.FAILED, S.CANCELLED, S.SANDBOX})
MARKED_FAILED = "Marked failed by user"


async def list_messages(session: AsyncSession, tenant_id: str, filters: MessageFilters) -> MessageList:
    rows, total = await repository.list_messages(session, tenant_id, filters)
    return MessageList(
        messages=[MessageSummary.of(r) for r in rows],
        total=total,
        page=filters.page,
        page_size=filters.page_size,
        total_pages=math.ceil(total / filters.page_size),
    )


async def get_message(session: AsyncSession, tenant_id: str, message_id: str, *, for_update: bool = False) -> Message:
    row = await repository.get_message(session, tenant_id, message_id, for_update=for_update)
    if row is None:
        raise NotFoundError(f"Message not found: {message_id}")
    return row


async def message_detail(session: AsyncSession, row: Message) -> MessageDetail:
    body = await repository.request_body(session, row.tenant_id, row.request_id)
    return MessageDetail.build(row, body, await repository.events_of(session, row.tenant_id, row.id))


def _set_status(row: Message, status: MessageStatus, now: datetime) -> None:
    row.status = status.value
    row.updated_at = now


async def cancel_message(session: AsyncSession, tenant_id: str, message_id: str, now: datetime) -> Message:
    row = await get_message(session, tenant_id, message_id, for_update=True)
    if row.status not in CANCELLABLE:
        raise ConflictError(f"Cannot cancel a message in status {row.status}")
    _set_status(row, S.CANCELLED, now)
    await session.flush()
    return row


async def retry_message(session: AsyncSession, tenant_id: str, message_id: str, now: datetime) -> tuple[Message, Job]:
    """Back to ``queued`` with the error cleared; the job to enqueue once committed (runs now, not at send_at)."""
    row = await get_message(session, tenant_id, message_id, for_update=True)
    if row.status not in RETRYABLE:
        raise BadRequestError(f"Cannot retry a message in status {row.status}")
    _set_status(row, S.QUEUED, now)
    row.error_message = None
    row.next_attempt_at = None
    await session.flush()
    retry = int(now.timestamp() * 1000)
    job = process_email_for(row.id, None, now, retry, tenant_id=row.tenant_id, request_id=row.api_request_id)
    return row, job


async def fail_message(session: AsyncSession, tenant_id: str, message_id: str, now: datetime) -> Message:
    row = await get_message(session, tenant_id, message_id, for_update=True)
    if row.status in FINAL:
        raise BadRequestError(f"Cannot mark a message in status {row.status} failed")
    _set_status(row, S.FAILED, now)
    row.error_message = MARKED_FAILED
    await session.flush()
    return row


async def requeue_stale_queued(
    session: AsyncSession, arq: ArqRedis, older_than: datetime, *, queues: Queues, limit: int = 1000
) -> int:
    """Enqueue ``process_email`` again for messages still ``queued`` and untouched since before ``older_than``
    (scheduled ones deferred to their ``send_at`` again); how many jobs were new. Reads only; safe to repeat."""
    rows = await repository.stale_queued(session, older_than, limit)
    jobs = [
        process_email_for(r.id, r.send_at, older_than, tenant_id=r.tenant_id, request_id=r.api_request_id) for r in rows
    ]
    added = await enqueue_jobs(arq, queues, jobs) if jobs else 0
    if added:
        logger.warning("requeued stale messages", extra={"requeued": added, "checked": len(jobs)})
    return added
