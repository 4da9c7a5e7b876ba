"""The stats routes (docs/stats.md, D5, D9): ``/v3/stats``, ``/v3/stats/categories`` and SendGrid's ``/v3/categories/stats``
(+ ``/sums``), ``/v3/stats/summary`` with its alias ``/v3/stats/sum``, and ``POST /v3/stats/rebuild``. Routes only.

Scope ``stats.read`` for reads, ``stats.export`` for a rebuild. Bad dates, an unknown ``aggregated_by`` and a start
after the end are 400 ``{"detail"}``. The rebuild runs before the response (200 ``{"rebuilt_days": n}``), one
transaction per day in sessions of its own (see :mod:`scaisend.stats.rebuild`), at most 366 days per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.auth.deps import StatsExport, StatsRead
from scaisend.errors import BadRequestError
from scaisend.stats import rebuild, service
from scaisend.stats.schemas import (
    CategoryStatsDay,
    GlobalStatsDay,
    RebuildRequest,
    RebuildResult,
    StatMetrics,
    StatsSummary,
)
from scaisend.stats.service import DateRange

router = APIRouter(tags=["stats"])

DateParam = Annotated[str | None, Query(description="YYYY-MM-DD or today")]
AggregationParam = Annotated[str | None, Query(description="day (default), week or month")]
CategoriesParam = Annotated[list[str] | None, Query(description="comma-separated, or repeated")]


def _span(resources: ResourcesDep, start_date: str | None, end_date: str | None) -> DateRange:
    return service.date_range(start_date, end_date, resources.clock.now().date())


def _requested_categories(categories: list[str] | None) -> list[str]:
    names = service.parse_categories(categories)
    if len(names) > service.MAX_CATEGORIES:
        raise BadRequestError(f"At most {service.MAX_CATEGORIES} categories may be requested")
    return names


async def _category_days(
    session: AsyncSession, tenant_id: str, span: DateRange, aggregated_by: str, names: list[str]
) -> list[CategoryStatsDay]:
    buckets = await service.category_stats(session, tenant_id, span, aggregated_by, names)
    return [CategoryStatsDay.of(day, list(per_category.items())) for day, per_category in buckets]


@router.get("/v3/stats", response_model=list[GlobalStatsDay])
async def global_stats(
    principal: StatsRead,
    session: SessionDep,
    resources: ResourcesDep,
    start_date: DateParam = None,
    end_date: DateParam = None,
    aggregated_by: AggregationParam = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[GlobalStatsDay]:
    span = _span(resources, start_date, end_date)
    buckets = await service.global_stats(session, principal.tenant_id, span, service.check_aggregation(aggregated_by))
    page = buckets[offset:] if limit is None else buckets[offset : offset + limit]
    return [GlobalStatsDay.of(day, values) for day, values in page]


@router.get("/v3/stats/categories", response_model=list[CategoryStatsDay])
async def stats_by_category(
    principal: StatsRead,
    session: SessionDep,
    resources: ResourcesDep,
    start_date: DateParam = None,
    end_date: DateParam = None,
    aggregated_by: AggregationParam = None,
    categories: CategoriesParam = None,
) -> list[CategoryStatsDay]:
    """Every category with activity in the range unless ``categories`` names some."""
    span = _span(resources, start_date, end_date)
    aggregation = service.check_aggregation(aggregated_by)
    names = _requested_categories(categories) or await service.categories_in_range(session, principal.tenant_id, span)
    return await _category_days(session, principal.tenant_id, span, aggregation, names)


@router.get("/v3/categories/stats", response_model=list[CategoryStatsDay])
async def category_stats(
    principal: StatsRead,
    session: SessionDep,
    resources: ResourcesDep,
    start_date: DateParam = None,
    end_date: DateParam = None,
    aggregated_by: AggregationParam = None,
    categories: CategoriesParam = None,
) -> list[CategoryStatsDay]:
    """SendGrid's route: ``categories`` is required (1 to 10)."""
    span = _span(resources, start_date, end_date)
    aggregation = service.check_aggregation(aggregated_by)
    names = _requested_categories(categories)
    if not names:
        raise BadRequestError("categories is required")
    return await _category_days(session, principal.tenant_id, span, aggregation, names)


@router.get("/v3/categories/stats/sums", response_model=CategoryStatsDay)
async def category_sums(
    principal: StatsRead,
    session: SessionDep,
    resources: ResourcesDep,
    start_date: DateParam = None,
    end_date: DateParam = None,
    aggregated_by: AggregationParam = None,
    sort_by_metric: str = "delivered",
    sort_by_direction: str = "desc",
    limit: Annotated[int, Query(ge=1)] = 5,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CategoryStatsDay:
    """Each category's totals over the whole range (``aggregated_by`` is accepted and has no effect)."""
    span = _span(resources, start_date, end_date)
    service.check_aggregation(aggregated_by)
    if sort_by_direction not in ("asc", "desc"):
        raise BadRequestError(f"Invalid sort_by_direction: {sort_by_direction!r} (use asc or desc)")
    sums = await service.category_sums(
        session,
        principal.tenant_id,
        span,
        sort_by_metric=sort_by_metric,
        descending=sort_by_direction == "desc",
        limit=limit,
        offset=offset,
    )
    return CategoryStatsDay.of(span.start, sums)


@router.get("/v3/stats/summary", response_model=StatsSummary)
@router.get("/v3/stats/sum", response_model=StatsSummary, name="stats_sum")
async def stats_summary(
    principal: StatsRead,
    session: SessionDep,
    resources: ResourcesDep,
    start_date: DateParam = None,
    end_date: DateParam = None,
) -> StatsSummary:
    """One set of totals over the range; ``/v3/stats/sum?start_date=today`` is the health pages' form."""
    span = _span(resources, start_date, end_date)
    values = await service.totals(session, principal.tenant_id, span)
    return StatsSummary(
        start_date=span.start.isoformat(), end_date=span.end.isoformat(), metrics=StatMetrics.of(values)
    )


@router.post("/v3/stats/rebuild", response_model=RebuildResult)
async def rebuild_stats(body: RebuildRequest, principal: StatsExport, resources: ResourcesDep) -> RebuildResult:
    span = service.date_range(
        body.start_date, body.end_date, resources.clock.now().date(), max_days=rebuild.MAX_REBUILD_DAYS
    )
    days = await rebuild.rebuild_range(resources.maker, principal.tenant_id, span)
    return RebuildResult(rebuilt_days=days)
