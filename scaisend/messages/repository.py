"""Queries of ``/v3/messages`` (docs/sending.md, D4, D48). Tenant-facing queries take the tenant id explicitly; only
:func:`stale_queued` (the operator's requeue sweep) spans tenants.

``to_email`` and ``category`` match one element of a JSON array column. Portable across MariaDB (JSON is LONGTEXT),
MySQL 8 and SQLite: a LIKE on the column's text for the element as JSON serialises it (``"a@b.c"``, quotes included,
so ``b@b.c`` never matches ``ab@b.c``), with LIKE's wildcards escaped. ``to_email`` ignores case; ``category`` does not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, Text, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from scaisend.messages.schemas import MessageFilters
from scaisend.models import EmailEvent, Message, MessageStatus, SendRequest, Tenant


def json_array_contains(
    column: InstrumentedAttribute[list[str]], value: str, *, ignore_case: bool = False
) -> ColumnElement[bool]:
    """``column`` (a JSON array of strings) has ``value`` as one of its elements."""
    text = type_coerce(column, Text)
    needle = json.dumps(value)
    if ignore_case:
        return func.lower(text).contains(needle.lower(), autoescape=True)
    return text.contains(needle, autoescape=True)


def _filtered(tenant_id: str, filters: MessageFilters) -> Select[Message]:
    stmt = select(Message).where(Message.tenant_id == tenant_id)
    if filters.status is not None:
        stmt = stmt.where(Message.status == filters.status.value)
    if filters.to_email:
        stmt = stmt.where(json_array_contains(Message.to_emails, filters.to_email.strip(), ignore_case=True))
    if filters.from_email:
        stmt = stmt.where(func.lower(Message.from_email) == filters.from_email.strip().lower())
    if filters.subject:
        stmt = stmt.where(Message.subject.contains(filters.subject, autoescape=True))
    if filters.batch_id:
        stmt = stmt.where(Message.batch_id == filters.batch_id)
    if filters.template_id:
        stmt = stmt.where(Message.template_id == filters.template_id)
    if filters.category:
        stmt = stmt.where(json_array_contains(Message.categories, filters.category))
    if filters.request_id:
        stmt = stmt.where(Message.api_request_id == filters.request_id.strip())
    if filters.start is not None:
        stmt = stmt.where(Message.created_at >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(
            Message.created_at <= filters.end if filters.end_inclusive else Message.created_at < filters.end
        )
    return stmt


async def list_messages(session: AsyncSession, tenant_id: str, filters: MessageFilters) -> tuple[list[Message], int]:
    """One page, newest first (the ``(tenant_id, created_at)`` index), and the total that match."""
    stmt = _filtered(tenant_id, filters)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    page = (
        stmt.order_by(Message.created_at.desc(), Message.id.desc())
        .offset((filters.page - 1) * filters.page_size)
        .limit(filters.page_size)
    )
    return list((await session.scalars(page)).all()), total


async def get_message(
    session: AsyncSession, tenant_id: str, message_id: str, *, for_update: bool = False
) -> Message | None:
    """The tenant's message; ``for_update`` locks it (and reads the latest committed row on InnoDB)."""
    stmt = select(Message).where(Message.id == message_id, Message.tenant_id == tenant_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def request_body(session: AsyncSession, tenant_id: str, request_id: str | None) -> dict[str, object]:
    if request_id is None:
        return {}
    body = await session.scalar(
        select(SendRequest.body).where(SendRequest.id == request_id, SendRequest.tenant_id == tenant_id)
    )
    return dict(body or {})


async def events_of(session: AsyncSession, tenant_id: str, message_id: str) -> list[EmailEvent]:
    """The message's timeline, oldest first."""
    rows = await session.scalars(
        select(EmailEvent)
        .where(EmailEvent.tenant_id == tenant_id, EmailEvent.message_id == message_id)
        .order_by(EmailEvent.occurred_at, EmailEvent.event_id)
    )
    return list(rows.all())


async def stale_queued(session: AsyncSession, older_than: datetime, limit: int) -> Sequence[Message]:
    """Messages of every tenant still ``queued`` and unchanged since before ``older_than``: those already due first,
    then those scheduled after ``older_than``, each oldest first, so that many far-future scheduled sends never take
    the whole batch from due ones whose job went missing. Joined from ``tenants`` so each tenant's queued rows are
    found through ``ix_messages_tenant_status`` instead of a scan."""
    scheduled_later = case((Message.send_at > older_than, 1), else_=0)
    rows = await session.scalars(
        select(Message)
        .join(Tenant, (Message.tenant_id == Tenant.id) & (Message.status == MessageStatus.QUEUED.value))
        .where(Message.updated_at < older_than)
        .order_by(scheduled_later, Message.updated_at)
        .limit(limit)
    )
    return rows.all()
