"""The official ``sendgrid`` Python client reads ``/v3/stats`` and ``/v3/categories/stats`` from the real
``scaisend serve`` in SendGrid's array shape, so existing SendGrid reporting code works unchanged (docs/stats.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sendgrid import SendGridAPIClient  # type: ignore[import-untyped]

from scaisend.settings import Settings
from tests.factories.api_server import running_api
from tests.factories.tenants import TenantKey
from tests.stats.scenario import DAY1_ALL, DAY1_NEWSLETTER, record_scenario

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def api_url(database: Settings) -> Iterator[str]:
    with running_api(database) as base:
        yield base


def _read(base: str, key: str) -> dict[str, Any]:
    sg = SendGridAPIClient(key, host=base)
    day = {"start_date": "2026-04-30", "end_date": "2026-04-30"}
    stats = sg.client.stats.get(query_params={**day, "aggregated_by": "day"})
    categories = sg.client.categories.stats.get(query_params={**day, "categories": "newsletter"})
    return {"stats": json.loads(stats.body), "categories": json.loads(categories.body)}


async def test_stats_through_the_sendgrid_client(app: FastAPI, api_url: str, tenant: TenantKey) -> None:
    await record_scenario(app, tenant.tenant_id)
    result = await asyncio.to_thread(_read, api_url, tenant.key)
    assert result["stats"] == [{"date": "2026-04-30", "stats": [{"metrics": DAY1_ALL}]}]
    [entry] = result["categories"]
    assert entry["stats"] == [{"type": "category", "name": "newsletter", "metrics": DAY1_NEWSLETTER}]
