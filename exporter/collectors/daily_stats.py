"""Per-tenant gauges of today's (UTC) 16 ``daily_stats`` metrics, all categories, plus each tenant's last update
time (docs/stats.md, D5, D9). Reads only today's rows through ``ix_daily_stats_date_category``, so a scrape costs the same with
90 days of history as with one."""

from __future__ import annotations

from sqlalchemy import select

from exporter.collectors.base import Sources
from exporter.exposition import GaugeFamily
from scaisend import metrics
from scaisend.models import ALL_CATEGORIES, STAT_METRICS, DailyStat

_COLUMNS = [getattr(DailyStat, name) for name in STAT_METRICS]


async def collect(sources: Sources) -> list[GaugeFamily]:
    today = sources.now().date()
    stmt = select(DailyStat.tenant_id, DailyStat.updated_at, *_COLUMNS).where(
        DailyStat.date == today, DailyStat.category == ALL_CATEGORIES
    )
    async with sources.engine.connect() as connection:
        rows = (await connection.execute(stmt)).all()
    families = [GaugeFamily(metrics.TENANT_STAT_SPECS[stat]) for stat in STAT_METRICS]
    updated = GaugeFamily(metrics.TENANT_STATS_UPDATED_SPEC)
    for tenant_id, updated_at, *values in rows:
        labels = (tenant_id,)
        for family, value in zip(families, values, strict=True):
            family.samples.append((labels, value))
        updated.samples.append((labels, updated_at.timestamp()))
    return [*families, updated]
