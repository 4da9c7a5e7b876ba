"""Every query of the webhooks domain (docs/architecture.md, D27): endpoints, Event Webhook settings and deliveries. Tenant
queries take ``tenant_id`` explicitly; delivery jobs address a delivery by its id (jobs carry ids, the row carries
its tenant).

Delivery rows move through :class:`DeliveryStatus`: an event for the Event Webhook waits ``queued`` (one row per
event) until the batching cron gathers it into one ``pending`` batch row; endpoint deliveries start ``pending``; a
pending row ends ``succeeded`` or ``failed``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import EventWebhookSettings, Message, WebhookDelivery, WebhookEndpoint


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # an Event Webhook event waiting for its batch
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeliveryTarget(enum.StrEnum):
    ENDPOINT = "endpoint"
    EVENT_WEBHOOK = "event_webhook"


# --- endpoints --------------------------------------------------------------------------------------------------------
async def list_endpoints(
    session: AsyncSession, tenant_id: str, *, enabled: bool | None, offset: int, limit: int
) -> tuple[list[WebhookEndpoint], int]:
    conditions = [WebhookEndpoint.tenant_id == tenant_id]
    if enabled is not None:
        conditions.append(WebhookEndpoint.enabled.is_(enabled))
    total = await session.scalar(select(func.count()).select_from(WebhookEndpoint).where(*conditions))
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(*conditions)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), int(total or 0)


async def get_endpoint(
    session: AsyncSession, tenant_id: str, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def enabled_endpoints(session: AsyncSession, tenant_id: str) -> list[WebhookEndpoint]:
    rows = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.enabled.is_(True))
    )
    return list(rows)


async def count_failure(session: AsyncSession, tenant_id: str, endpoint_id: str, now: datetime) -> int:
    """One more consecutive failure (an atomic increment); returns the new count."""
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
        .values(failure_count=WebhookEndpoint.failure_count + 1, last_failure_at=now)
    )
    count = await session.scalar(
        select(WebhookEndpoint.failure_count)
        .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
        .execution_options(populate_existing=True)
    )
    return int(count or 0)


async def count_success(session: AsyncSession, tenant_id: str, endpoint_id: str, now: datetime) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id)
        .values(failure_count=0, last_success_at=now)
    )


async def disable_endpoint(session: AsyncSession, tenant_id: str, endpoint_id: str, now: datetime) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True)
        )
        .values(enabled=False, disabled_at=now)
    )


# --- Event Webhook settings -------------------------------------------------------------------------------------------
async def event_webhook_settings(
    session: AsyncSession, tenant_id: str, *, lock: bool = False
) -> EventWebhookSettings | None:
    stmt = select(EventWebhookSettings).where(EventWebhookSettings.tenant_id == tenant_id)
    if lock:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


# --- messages (read-only context for envelopes) -----------------------------------------------------------------------
async def message_context(session: AsyncSession, tenant_id: str, message_id: str) -> Message | None:
    return await session.scalar(select(Message).where(Message.tenant_id == tenant_id, Message.id == message_id))


# --- deliveries -------------------------------------------------------------------------------------------------------
async def lock_delivery(session: AsyncSession, delivery_id: str) -> WebhookDelivery | None:
    return await session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update())


async def delete_endpoint_deliveries(session: AsyncSession, tenant_id: str, endpoint_id: str) -> None:
    await session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.endpoint_id == endpoint_id
        )
    )


async def fail_pending(session: AsyncSession, tenant_id: str, endpoint_id: str, reason: str) -> None:
    """End every pending delivery of an endpoint (it was disabled)."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.tenant_id == tenant_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, last_error=reason, next_attempt_at=None)
    )


async def due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[tuple[str, int]]:
    """``(id, attempts)`` of pending deliveries whose next attempt is due (or that never had a first one)."""
    rows = await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        )
        .order_by(WebhookDelivery.updated_at)
        .limit(limit)
    )
    return [(row.id, int(row.attempts)) for row in rows]


async def queued_tenants(session: AsyncSession, limit: int) -> list[str]:
    rows = await session.scalars(
        select(WebhookDelivery.tenant_id).where(WebhookDelivery.status == DeliveryStatus.QUEUED).distinct().limit(limit)
    )
    return list(rows)


async def take_queued(session: AsyncSession, tenant_id: str, limit: int) -> list[WebhookDelivery]:
    """The tenant's oldest queued Event Webhook events, locked (rows another flush holds are skipped)."""
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.status == DeliveryStatus.QUEUED)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def delete_deliveries(session: AsyncSession, tenant_id: str, ids: Sequence[str]) -> None:
    if ids:
        await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.tenant_id == tenant_id, WebhookDelivery.id.in_(list(ids)))
        )
