"""Reading ``daily_stats`` (docs/stats.md, D5, D9): global stats per day, week or month, per-category stats, per-category sums
and one set of totals over a range. Days without a row count as zeros, so every bucket of the range is present.

Days are UTC dates. A week bucket is labelled with its Monday and a month bucket with its 1st, even when the range
starts later in that week or month (only days inside the range are counted). Date parameters are ``YYYY-MM-DD`` or
``today``; a bad value, or a start after the end, is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError
from scaisend.models import ALL_CATEGORIES, STAT_METRICS, DailyStat

AGGREGATIONS: Final = ("day", "week", "month")
MAX_RANGE_DAYS: Final = 3660  # ten years of daily buckets; keeps one response bounded
MAX_CATEGORIES: Final = 10  # SendGrid: "You may include up to 10 different categories"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Metrics = dict[str, int]
TenantScope = str | Sequence[str]  # one tenant, or several summed together (a partner's tenants, docs/architecture.md)


def zero_metrics() -> Metrics:
    return dict.fromkeys(STAT_METRICS, 0)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    def days(self) -> Iterator[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1


# --- parameters ------------------------------------------------------------------------------------------------------
def parse_date(value: str, name: str, today: date) -> date:
    text = value.strip()
    if text.lower() == "today":
        return today
    if _DATE_RE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise BadRequestError(f"Invalid {name}: {value!r} (expected YYYY-MM-DD)")


def date_range(
    start_date: str | None, end_date: str | None, today: date, *, max_days: int = MAX_RANGE_DAYS
) -> DateRange:
    """The inclusive range of the request: ``start_date`` required, ``end_date`` defaults to today."""
    if start_date is None or not start_date.strip():
        raise BadRequestError("start_date is required (YYYY-MM-DD)")
    start = parse_date(start_date, "start_date", today)
    end = today if end_date is None or not end_date.strip() else parse_date(end_date, "end_date", today)
    if start > end:
        raise BadRequestError("start_date must not be after end_date")
    span = DateRange(start, end)
    if span.length > max_days:
        raise BadRequestError(f"The date range may cover at most {max_days} days")
    return span


def check_aggregation(aggregated_by: str | None) -> str:
    value = (aggregated_by or "day").strip().lower()
    if value not in AGGREGATIONS:
        raise BadRequestError(f"Invalid aggregated_by: {aggregated_by!r} (use one of: {', '.join(AGGREGATIONS)})")
    return value


def parse_categories(values: Sequence[str] | None) -> list[str]:
    """``categories=a,b`` and SendGrid's repeated ``categories=a&categories=b``, duplicates removed."""
    names = [part.strip() for value in values or () for part in value.split(",")]
    return list(dict.fromkeys(n for n in names if n))


def bucket_of(day: date, aggregated_by: str) -> date:
    if aggregated_by == "week":
        return day - timedelta(days=day.weekday())
    if aggregated_by == "month":
        return day.replace(day=1)
    return day


# --- queries ---------------------------------------------------------------------------------------------------------
def _where(tenant_id: TenantScope, span: DateRange) -> list[ColumnElement[bool]]:
    tenant = DailyStat.tenant_id == tenant_id if isinstance(tenant_id, str) else DailyStat.tenant_id.in_(tenant_id)
    return [tenant, DailyStat.date >= span.start, DailyStat.date <= span.end]


_COLUMNS = [DailyStat.__table__.c[name] for name in STAT_METRICS]


async def _daily(
    session: AsyncSession, tenant_id: TenantScope, span: DateRange, categories: Sequence[str]
) -> list[tuple[date, str, Metrics]]:
    rows = await session.execute(
        select(DailyStat.date, DailyStat.category, *_COLUMNS).where(
            *_where(tenant_id, span), DailyStat.category.in_(list(categories))
        )
    )
    return [(row[0], row[1], dict(zip(STAT_METRICS, row[2:], strict=True))) for row in rows]


def _add(into: Metrics, values: Metrics) -> None:
    for name, value in values.items():
        into[name] += int(value or 0)


async def global_stats(
    session: AsyncSession, tenant_id: TenantScope, span: DateRange, aggregated_by: str
) -> list[tuple[date, Metrics]]:
    """One entry per bucket of the range, oldest first, from the all-categories rows."""
    buckets = {bucket_of(day, aggregated_by): zero_metrics() for day in span.days()}
    for day, _category, values in await _daily(session, tenant_id, span, [ALL_CATEGORIES]):
        _add(buckets[bucket_of(day, aggregated_by)], values)
    return list(buckets.items())


async def categories_in_range(session: AsyncSession, tenant_id: str, span: DateRange) -> list[str]:
    rows = await session.scalars(
        select(DailyStat.category).distinct().where(*_where(tenant_id, span), DailyStat.category != ALL_CATEGORIES)
    )
    return sorted(rows)


async def category_stats(
    session: AsyncSession, tenant_id: str, span: DateRange, aggregated_by: str, categories: Sequence[str]
) -> list[tuple[date, dict[str, Metrics]]]:
    """Per bucket, per requested category (in the order asked), zeros where a category had no activity."""
    names = [c for c in categories if c != ALL_CATEGORIES]
    buckets = {bucket_of(day, aggregated_by): {name: zero_metrics() for name in names} for day in span.days()}
    for day, category, values in await _daily(session, tenant_id, span, names):
        _add(buckets[bucket_of(day, aggregated_by)][category], values)
    return list(buckets.items())


async def _sums(
    session: AsyncSession, tenant_id: TenantScope, span: DateRange, *extra: ColumnElement[bool]
) -> list[tuple[str, Metrics]]:
    """Each selected category's totals over the range."""
    sums = [func.coalesce(func.sum(col), 0) for col in _COLUMNS]
    rows = await session.execute(
        select(DailyStat.category, *sums).where(*_where(tenant_id, span), *extra).group_by(DailyStat.category)
    )
    return [(row[0], {name: int(v) for name, v in zip(STAT_METRICS, row[1:], strict=True)}) for row in rows]


async def totals(session: AsyncSession, tenant_id: TenantScope, span: DateRange) -> Metrics:
    """One set of totals over the range (``/v3/stats/summary``)."""
    found = await _sums(session, tenant_id, span, DailyStat.category == ALL_CATEGORIES)
    return found[0][1] if found else zero_metrics()


async def category_sums(
    session: AsyncSession,
    tenant_id: str,
    span: DateRange,
    *,
    sort_by_metric: str,
    descending: bool,
    limit: int,
    offset: int,
) -> list[tuple[str, Metrics]]:
    """Every category's totals over the range, sorted by one metric (ties by name), then paged."""
    if sort_by_metric not in STAT_METRICS:
        raise BadRequestError(f"Invalid sort_by_metric: {sort_by_metric!r}")
    found = await _sums(session, tenant_id, span, DailyStat.category != ALL_CATEGORIES)
    found.sort(key=lambda item: item[0])
    found.sort(key=lambda item: item[1][sort_by_metric], reverse=descending)
    return found[offset : offset + limit]
