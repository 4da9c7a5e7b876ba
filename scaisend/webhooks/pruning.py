"""Retention of ``webhook_deliveries``: finished rows (``succeeded`` or ``failed``) unchanged for
``WEBHOOK_DELIVERY_RETENTION_DAYS`` are deleted by the worker's daily cron, in batches through
``ix_webhook_deliveries_status`` so no statement holds many locks. ``pending`` and ``queued`` rows are never touched:
they are work still to do. 0 keeps every row."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext
from scaisend.models import WebhookDelivery
from scaisend.webhooks.repository import DeliveryStatus

logger = logging.getLogger(__name__)

BATCH: Final = 5000
FINISHED: Final = (DeliveryStatus.SUCCEEDED.value, DeliveryStatus.FAILED.value)


async def delete_finished_batch(session: AsyncSession, older_than: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` finished deliveries last changed before ``older_than``; how many were."""
    ids = list(
        await session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status.in_(FINISHED), WebhookDelivery.updated_at < older_than)
            .limit(limit)
        )
    )
    if ids:
        await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).execution_options(synchronize_session=False)
        )
    return len(ids)


async def prune(maker: async_sessionmaker[AsyncSession], older_than: datetime, limit: int = BATCH) -> int:
    """Delete every finished delivery older than ``older_than``, one committed batch at a time; how many."""
    total = 0
    while True:
        async with unit_of_work(maker) as session:
            deleted = await delete_finished_batch(session, older_than, limit)
        total += deleted
        if deleted < limit:
            return total


async def prune_webhook_deliveries(ctx: JobContext) -> int:
    """The worker's daily cron; how many rows it deleted."""
    days = ctx["settings"].WEBHOOK_DELIVERY_RETENTION_DAYS
    if not days:
        return 0
    deleted = await prune(ctx["maker"], ctx["clock"].now() - timedelta(days=days))
    if deleted:
        logger.info("pruned webhook deliveries", extra={"deleted": deleted, "retention_days": days})
    return deleted
