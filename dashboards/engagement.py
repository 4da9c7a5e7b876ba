"""Dashboard 6 of the operations guide (docs/observability.md, docs/runbooks.md, docs/stats.md, D5, D9): open and click rates per tenant, from today's
daily_stats (unique opens and clicks over delivered)."""

from __future__ import annotations

from typing import Any, Final

from dashboards import queries as q
from dashboards.common import EXPORTER, TENANT, Query, build, stat, timeseries

UID: Final = "scaisend-engagement"
TITLE: Final = "ScaiSend / Open and click rates"
RATES: Final = (("Unique open rate", "unique_opens"), ("Unique click rate", "unique_clicks"))


def dashboard() -> dict[str, Any]:
    tenants = (EXPORTER, TENANT)
    return build(
        UID,
        TITLE,
        "Opens and clicks over delivered mail, per tenant, today (UTC).",
        [
            (
                10,
                [
                    timeseries(
                        f"{label} today per tenant",
                        [Query(q.tenant_ratio(stat_name, "delivered", tenants), "{{tenant}}")],
                        "percentunit",
                    )
                    for label, stat_name in RATES
                ],
            ),
            (
                9,
                [
                    timeseries(
                        "Opens and clicks today, per tenant",
                        [
                            Query(q.tenant_stat(stat_name, tenants), f"{{{{tenant}}}} {stat_name}")
                            for stat_name in ("opens", "unique_opens", "clicks", "unique_clicks")
                        ],
                        "short",
                    ),
                ],
            ),
            (
                5,
                [
                    stat(
                        f"{label} today (selected tenants)",
                        Query(q.tenants_ratio(stat_name, "delivered", tenants)),
                        "percentunit",
                    )
                    for label, stat_name in RATES
                ],
            ),
        ],
    )
