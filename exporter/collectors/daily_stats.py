"""Per-tenant gauges of today's (UTC) 16 ``daily_stats`` metrics, all categories, plus each tenant's last update
time (spec §8). Reads only today's rows through ``ix_daily_stats_date_category``, so a scrape costs the same with
90 days of history as with one."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import select

from exporter.collectors.base import Sources
from scaisend import metrics
from scaisend.models import ALL_CATEGORIES, STAT_METRICS, DailyStat

_COLUMNS = [getattr(DailyStat, name) for name in STAT_METRICS]


async def collect(sources: Sources) -> list[Metric]:
    today = sources.now().date()
    stmt = select(DailyStat.tenant_id, DailyStat.updated_at, *_COLUMNS).where(
        DailyStat.date == today, DailyStat.category == ALL_CATEGORIES
    )
    async with sources.engine.connect() as connection:
        rows = (await connection.execute(stmt)).all()
    families = {
        stat: GaugeMetricFamily(spec.name, spec.help, labels=["tenant"])
        for stat, spec in metrics.TENANT_STAT_SPECS.items()
    }
    updated = GaugeMetricFamily(metrics.TENANT_STATS_UPDATED_SPEC.name, metrics.TENANT_STATS_UPDATED_SPEC.help,
                                labels=["tenant"])
    for row in rows:
        for stat in STAT_METRICS:
            families[stat].add_metric([row.tenant_id], float(getattr(row, stat)))
        updated.add_metric([row.tenant_id], row.updated_at.timestamp())
    return [*families.values(), updated]
