"""Webhook deliveries that finished (succeeded, or failed for good) within the recent window, by outcome."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import func, select

from exporter.collectors.base import Sources
from scaisend import metrics
from scaisend.models import WebhookDelivery

_OUTCOME_BY_STATUS = {"succeeded": "success", "failed": "failure"}


async def collect(sources: Sources) -> list[Metric]:
    since = sources.now() - timedelta(seconds=metrics.WEBHOOK_RECENT_WINDOW_SECONDS)
    stmt = (
        select(WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(list(_OUTCOME_BY_STATUS)), WebhookDelivery.updated_at >= since)
        .group_by(WebhookDelivery.status)
    )
    async with sources.engine.connect() as connection:
        counts = {status: n for status, n in (await connection.execute(stmt)).all()}
    spec = metrics.WEBHOOK_DELIVERIES_RECENT_SPEC
    family = GaugeMetricFamily(spec.name, spec.help, labels=["outcome"])
    for status, outcome in _OUTCOME_BY_STATUS.items():
        family.add_metric([outcome], float(counts.get(status, 0)))
    return [family]
