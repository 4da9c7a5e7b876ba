"""Event Webhook batching (D7; docs/webhooks.md: SendGrid posts "every 30 seconds or when the batch size reaches
768 kilobytes").

Each event for the Event Webhook waits as a ``queued`` row (written by the fan-out). Every 5 seconds the
``flush_event_webhooks`` cron turns a tenant's queued rows, oldest first, into ``pending`` batch deliveries of at most
:data:`MAX_BATCH_EVENTS` events and :data:`MAX_BATCH_BYTES` of JSON (an event larger than that travels alone), each a
JSON array of SendGrid-format events (:mod:`.sendgrid_format`) with the ordinary retry schedule. Queued rows are
deleted in the same transaction. If the tenant turned the Event Webhook off meanwhile, its queued events are dropped.
Rows are taken with ``FOR UPDATE SKIP LOCKED`` so overlapping flushes never batch an event twice.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.ids import new_id
from scaisend.models import WebhookDelivery
from scaisend.settings import Settings
from scaisend.webhooks import repository
from scaisend.webhooks.dispatch import hand_off_deliveries
from scaisend.webhooks.outgoing import encode
from scaisend.webhooks.repository import DeliveryStatus, DeliveryTarget
from scaisend.webhooks.sendgrid_format import to_sendgrid_event

FLUSH_EVERY_SECONDS: Final = 5
MAX_BATCH_EVENTS: Final = 1000
MAX_BATCH_BYTES: Final = 768 * 1024
MAX_EVENTS_PER_FLUSH: Final = 5000


def split_batches(
    events: list[tuple[str, dict[str, Any]]], max_events: int = MAX_BATCH_EVENTS, max_bytes: int = MAX_BATCH_BYTES
) -> list[list[tuple[str, dict[str, Any]]]]:
    """Cut ``(event_id, event)`` pairs, in order, into batches within both limits (``[`` ``]`` and commas count)."""
    batches: list[list[tuple[str, dict[str, Any]]]] = []
    current: list[tuple[str, dict[str, Any]]] = []
    size = 2
    for item in events:
        item_size = len(encode(item[1])) + 1
        if current and (len(current) >= max_events or size + item_size > max_bytes):
            batches.append(current)
            current, size = [], 2
        current.append(item)
        size += item_size
    if current:
        batches.append(current)
    return batches


async def flush_tenant(session: AsyncSession, settings: Settings, tenant_id: str) -> list[str]:
    """Turn the tenant's queued events into batch deliveries; returns their ids (noted for enqueue-after-commit)."""
    queued = await repository.take_queued(session, tenant_id, MAX_EVENTS_PER_FLUSH)
    if not queued:
        return []
    await repository.delete_deliveries(session, tenant_id, [row.id for row in queued])
    config = await repository.event_webhook_settings(session, tenant_id)
    if config is None or not config.enabled or not config.url:
        return []
    events = [
        (
            row.event_ids[0],
            to_sendgrid_event(
                row.payload["envelope"],
                smtp_hostname=settings.SMTP_HOSTNAME,
                asm_group_id=row.payload.get("asm_group_id"),
            ),
        )
        for row in queued
    ]
    rows = [
        WebhookDelivery(
            id=new_id("whd"),
            tenant_id=tenant_id,
            endpoint_id=None,
            target=DeliveryTarget.EVENT_WEBHOOK.value,
            event_ids=[event_id for event_id, _ in batch],
            payload=[event for _, event in batch],
            status=DeliveryStatus.PENDING.value,
            attempts=0,
        )
        for batch in split_batches(events)
    ]
    session.add_all(rows)
    await session.flush()
    ids = [row.id for row in rows]
    hand_off_deliveries(session, ids)
    return ids
