"""The stats routes through the API (docs/stats.md, D5, D9): events recorded with the real recorder show up in ``/v3/stats``
(SendGrid's array shape), by week and month, per category, as sums and as one summary; bad parameters are 400."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from scaisend.events.types import EventType
from tests.factories.stats import make_message, record
from tests.factories.tenants import TenantKey, make_key, make_tenant
from tests.stats.scenario import (
    BOTH_DAYS_ALL,
    DAY1_ALL,
    DAY1_NEWSLETTER,
    DAY1_WELCOME,
    DAY2_ALL,
    DAY2_NEWSLETTER,
    DAY2_WELCOME,
    ZERO,
    metrics,
    record_noise,
    record_scenario,
)

RANGE = {"start_date": "2026-04-29", "end_date": "2026-05-04"}


@pytest.fixture
async def scenario_tenant(app: FastAPI, tenant: TenantKey, other_tenant: TenantKey) -> TenantKey:
    await record_scenario(app, tenant.tenant_id)
    await record_noise(app, other_tenant.tenant_id)
    return tenant


async def _get(client: httpx.AsyncClient, owner: TenantKey, path: str, **params: Any) -> Any:
    response = await client.get(path, headers=owner.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _by_date(body: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {entry["date"]: entry["stats"][0]["metrics"] for entry in body}


class TestGlobalStats:
    async def test_every_day_of_the_range_with_the_recorded_counts(
        self, client: httpx.AsyncClient, scenario_tenant: TenantKey
    ) -> None:
        body = await _get(client, scenario_tenant, "/v3/stats", **RANGE)
        assert body[1] == {"date": "2026-04-30", "stats": [{"metrics": DAY1_ALL}]}
        assert _by_date(body) == {
            "2026-04-29": ZERO,
            "2026-04-30": DAY1_ALL,
            "2026-05-01": ZERO,
            "2026-05-02": ZERO,
            "2026-05-03": DAY2_ALL,
            "2026-05-04": ZERO,
        }

    async def test_weeks_start_on_monday(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(client, scenario_tenant, "/v3/stats", aggregated_by="week", **RANGE)
        assert _by_date(body) == {"2026-04-27": BOTH_DAYS_ALL, "2026-05-04": ZERO}

    async def test_months_start_on_the_first(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(client, scenario_tenant, "/v3/stats", aggregated_by="month", **RANGE)
        assert _by_date(body) == {"2026-04-01": DAY1_ALL, "2026-05-01": DAY2_ALL}

    async def test_range_edges_are_inclusive(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(
            client, scenario_tenant, "/v3/stats", start_date="2026-05-03", end_date="2026-05-03", aggregated_by="month"
        )
        assert _by_date(body) == {"2026-05-01": DAY2_ALL}

    async def test_limit_and_offset_page_the_dates(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(client, scenario_tenant, "/v3/stats", limit=2, offset=1, **RANGE)
        assert [entry["date"] for entry in body] == ["2026-04-30", "2026-05-01"]

    async def test_a_tenant_without_activity_sees_zeros(
        self, client: httpx.AsyncClient, scenario_tenant: TenantKey, app: FastAPI
    ) -> None:
        quiet = await make_tenant(app.state.resources.maker)
        body = await _get(client, quiet, "/v3/stats", start_date="2026-04-30", end_date="2026-04-30")
        assert body == [{"date": "2026-04-30", "stats": [{"metrics": ZERO}]}]

    async def test_end_date_defaults_to_today(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        now = datetime.now(UTC)
        message = await make_message(app.state.resources.maker, tenant.tenant_id)
        await record(app.state.resources.maker, message, EventType.PROCESSED, now)
        body = await _get(client, tenant, "/v3/stats", start_date=now.date().isoformat())
        assert body == [{"date": now.date().isoformat(), "stats": [{"metrics": metrics(requests=1, processed=1)}]}]


class TestCategoryStats:
    async def test_every_category_unless_filtered(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(
            client, scenario_tenant, "/v3/stats/categories", start_date="2026-04-30", end_date="2026-04-30"
        )
        assert body == [
            {
                "date": "2026-04-30",
                "stats": [
                    {"type": "category", "name": "newsletter", "metrics": DAY1_NEWSLETTER},
                    {"type": "category", "name": "onboarding", "metrics": DAY1_WELCOME},
                    {"type": "category", "name": "welcome", "metrics": DAY1_WELCOME},
                ],
            }
        ]

    async def test_sendgrid_route_with_categories_in_the_order_asked(
        self, client: httpx.AsyncClient, scenario_tenant: TenantKey
    ) -> None:
        body = await _get(
            client,
            scenario_tenant,
            "/v3/categories/stats",
            categories="welcome,newsletter,unused",
            aggregated_by="week",
            **RANGE,
        )
        assert body == [
            {
                "date": "2026-04-27",
                "stats": [
                    {
                        "type": "category",
                        "name": "welcome",
                        "metrics": {k: DAY1_WELCOME[k] + DAY2_WELCOME[k] for k in ZERO},
                    },
                    {
                        "type": "category",
                        "name": "newsletter",
                        "metrics": {k: DAY1_NEWSLETTER[k] + DAY2_NEWSLETTER[k] for k in ZERO},
                    },
                    {"type": "category", "name": "unused", "metrics": ZERO},
                ],
            },
            {
                "date": "2026-05-04",
                "stats": [
                    {"type": "category", "name": name, "metrics": ZERO} for name in ("welcome", "newsletter", "unused")
                ],
            },
        ]

    async def test_repeated_categories_parameter(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(
            client,
            scenario_tenant,
            "/v3/categories/stats",
            start_date="2026-05-03",
            end_date="2026-05-03",
            categories=["newsletter", "welcome"],
        )
        assert [s["name"] for s in body[0]["stats"]] == ["newsletter", "welcome"]
        assert body[0]["stats"][0]["metrics"] == DAY2_NEWSLETTER

    async def test_sendgrid_route_requires_categories(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get("/v3/categories/stats", headers=tenant.headers, params={"start_date": "2026-04-30"})
        assert response.status_code == 400
        assert response.json() == {"detail": "categories is required"}

    async def test_more_than_ten_categories_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get(
            "/v3/categories/stats",
            headers=tenant.headers,
            params={"start_date": "2026-04-30", "categories": ",".join(f"c{i}" for i in range(11))},
        )
        assert response.status_code == 400

    async def test_sums_sorted_by_a_metric(self, client: httpx.AsyncClient, scenario_tenant: TenantKey) -> None:
        body = await _get(client, scenario_tenant, "/v3/categories/stats/sums", sort_by_metric="bounces", **RANGE)
        assert body["date"] == "2026-04-29"
        assert [s["name"] for s in body["stats"]] == ["newsletter", "onboarding", "welcome"]
        assert body["stats"][0]["metrics"]["bounces"] == 1
        ascending = await _get(
            client,
            scenario_tenant,
            "/v3/categories/stats/sums",
            sort_by_metric="opens",
            sort_by_direction="asc",
            limit=1,
            **RANGE,
        )
        assert [s["name"] for s in ascending["stats"]] == ["newsletter"]
        default = await _get(client, scenario_tenant, "/v3/categories/stats/sums", offset=1, **RANGE)
        assert [s["name"] for s in default["stats"]] == ["welcome", "newsletter"]

    async def test_sums_refuse_an_unknown_metric(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get(
            "/v3/categories/stats/sums",
            headers=tenant.headers,
            params={"start_date": "2026-04-30", "sort_by_metric": "revenue"},
        )
        assert response.status_code == 400


class TestSummary:
    @pytest.mark.parametrize("path", ["/v3/stats/summary", "/v3/stats/sum"])
    async def test_one_set_of_totals(self, client: httpx.AsyncClient, scenario_tenant: TenantKey, path: str) -> None:
        body = await _get(client, scenario_tenant, path, **RANGE)
        assert body == {"start_date": "2026-04-29", "end_date": "2026-05-04", "metrics": BOTH_DAYS_ALL}

    async def test_start_date_today(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        message = await make_message(app.state.resources.maker, tenant.tenant_id)
        await record(app.state.resources.maker, message, EventType.BOUNCE, datetime.now(UTC))
        body = await _get(client, tenant, "/v3/stats/sum", start_date="today")
        today = datetime.now(UTC).date().isoformat()
        assert body == {"start_date": today, "end_date": today, "metrics": metrics(bounces=1)}


class TestBadParameters:
    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({}, "start_date is required (YYYY-MM-DD)"),
            ({"start_date": "2026-13-01"}, "Invalid start_date: '2026-13-01' (expected YYYY-MM-DD)"),
            ({"start_date": "30/04/2026"}, "Invalid start_date: '30/04/2026' (expected YYYY-MM-DD)"),
            (
                {"start_date": "2026-04-30", "end_date": "tomorrow"},
                "Invalid end_date: 'tomorrow' (expected YYYY-MM-DD)",
            ),
            ({"start_date": "2026-05-02", "end_date": "2026-05-01"}, "start_date must not be after end_date"),
            (
                {"start_date": "2026-04-30", "aggregated_by": "year"},
                "Invalid aggregated_by: 'year' (use one of: day, week, month)",
            ),
            ({"start_date": "1990-01-01", "end_date": "2026-01-01"}, "The date range may cover at most 3660 days"),
        ],
    )
    @pytest.mark.parametrize("path", ["/v3/stats", "/v3/stats/categories"])
    async def test_400_with_detail(
        self, client: httpx.AsyncClient, tenant: TenantKey, path: str, params: dict[str, str], detail: str
    ) -> None:
        response = await client.get(path, headers=tenant.headers, params=params)
        assert response.status_code == 400
        assert response.json() == {"detail": detail}

    async def test_summary_checks_dates_too(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get("/v3/stats/summary", headers=tenant.headers, params={"start_date": "yesterday"})
        assert response.status_code == 400


class TestScopes:
    async def test_stats_read_is_required(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        sender = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.send"])
        response = await client.get("/v3/stats", headers=sender.headers, params={"start_date": "today"})
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: stats.read"}
