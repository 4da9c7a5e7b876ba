"""Dashboard 2 of the operations guide (scaisend.md §9.2): bounce rate per tenant, stacked, against the 2% alert
threshold of ``ScaiSendTenantBounceRateHigh``."""

from __future__ import annotations

from typing import Any, Final

from alerts.config import CONFIG, percent
from dashboards import queries as q
from dashboards.common import EXPORTER, TENANT, Query, build, stat, timeseries

UID: Final = "scaisend-bounces"
TITLE: Final = "ScaiSend / Bounce rate per tenant"


def dashboard() -> dict[str, Any]:
    tenants = (EXPORTER, TENANT)
    threshold = CONFIG.tenant_bounce_rate
    return build(
        UID,
        TITLE,
        "Today's bounces / requests per tenant, from daily_stats.",
        [
            (
                10,
                [
                    timeseries(
                        f"Bounce rate today per tenant (alert above {percent(threshold)})",
                        [
                            Query(q.tenant_bounce_rate(tenants), "{{tenant}}"),
                        ],
                        "percentunit",
                        stacked=True,
                        threshold=threshold,
                        description="Stacked: each band is one tenant's bounces / requests today; resets at midnight UTC.",
                    ),
                ],
            ),
            (
                9,
                [
                    timeseries(
                        "Bounces, blocks and bounce drops today, per tenant",
                        [
                            Query(q.tenant_stat(stat_name, tenants), f"{{{{tenant}}}} {stat_name}")
                            for stat_name in ("bounces", "blocks", "bounce_drops")
                        ],
                        "short",
                    ),
                    timeseries(
                        "Invalid emails today, per tenant",
                        [
                            Query(q.tenant_stat("invalid_emails", tenants), "{{tenant}}"),
                        ],
                        "short",
                    ),
                ],
            ),
            (
                5,
                [
                    stat(
                        "Bounce rate today (selected tenants)",
                        Query(q.tenants_ratio("bounces", "requests", tenants)),
                        "percentunit",
                        threshold=threshold,
                    ),
                    stat(
                        "Requests today (selected tenants)",
                        Query(f"sum({q.tenant_stat('requests', tenants)})"),
                        "short",
                    ),
                ],
            ),
        ],
    )
