"""Webhook deliveries that finished (succeeded, or failed for good) within the recent window, by outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from exporter.collectors.base import Sources
from exporter.exposition import GaugeFamily
from scaisend import metrics
from scaisend.models import WebhookDelivery

_OUTCOME_BY_STATUS = {"succeeded": "success", "failed": "failure"}


async def collect(sources: Sources) -> list[GaugeFamily]:
    since = sources.now() - timedelta(seconds=metrics.WEBHOOK_RECENT_WINDOW_SECONDS)
    stmt = (
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(list(_OUTCOME_BY_STATUS)), WebhookDelivery.updated_at >= since)
        .group_by(WebhookDelivery.status)
    )
    async with sources.engine.connect() as connection:
        counts = {status: n for status, n in (await connection.execute(stmt)).all()}
    family = GaugeFamily(metrics.WEBHOOK_DELIVERIES_RECENT_SPEC)
    for status, outcome in _OUTCOME_BY_STATUS.items():
        family.add((outcome,), counts.get(status, 0))
    return [family]
