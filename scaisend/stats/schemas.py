"""Response shapes of the stats routes (docs/stats.md, D5, D9), as SendGrid's ``tsg_stats_v3.json`` has them, so unchanged
SendGrid client code reads them: ``/v3/stats`` is an array of ``{"date", "stats": [{"metrics"}]}`` (the ScaiSend
docs' ``{"stats": [{"date", "metrics"}]}`` wrapper is not used; docs/stats.md says why) and category entries carry
``{"type": "category", "name", "metrics"}``."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from scaisend.models import STAT_METRICS
from scaisend.stats.service import Metrics


class StatMetrics(BaseModel):
    """The 16 SendGrid metrics (``StatsAdvancedGlobalStats``), all integers."""

    requests: int = 0
    processed: int = 0
    delivered: int = 0
    bounces: int = 0
    bounce_drops: int = 0
    blocks: int = 0
    spam_reports: int = 0
    spam_report_drops: int = 0
    unsubscribes: int = 0
    unsubscribe_drops: int = 0
    invalid_emails: int = 0
    opens: int = 0
    unique_opens: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    deferred: int = 0

    @classmethod
    def of(cls, values: Metrics) -> StatMetrics:
        return cls(**{name: values[name] for name in STAT_METRICS})


class GlobalStat(BaseModel):
    metrics: StatMetrics


class CategoryStat(BaseModel):
    type: str = "category"
    name: str
    metrics: StatMetrics


class GlobalStatsDay(BaseModel):
    date: str
    stats: list[GlobalStat]

    @classmethod
    def of(cls, day: dt.date, values: Metrics) -> GlobalStatsDay:
        return cls(date=day.isoformat(), stats=[GlobalStat(metrics=StatMetrics.of(values))])


class CategoryStatsDay(BaseModel):
    date: str
    stats: list[CategoryStat]

    @classmethod
    def of(cls, day: dt.date, per_category: list[tuple[str, Metrics]]) -> CategoryStatsDay:
        return cls(
            date=day.isoformat(),
            stats=[CategoryStat(name=name, metrics=StatMetrics.of(values)) for name, values in per_category],
        )


class StatsSummary(BaseModel):
    start_date: str
    end_date: str
    metrics: StatMetrics


class RebuildRequest(BaseModel):
    start_date: str
    end_date: str | None = None


class RebuildResult(BaseModel):
    rebuilt_days: int
