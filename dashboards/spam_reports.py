"""Dashboard 3 of the operations guide (docs/observability.md, docs/runbooks.md): spam-report rate per tenant with the 0.1% threshold line
of ``ScaiSendTenantSpamReportRateHigh``."""

from __future__ import annotations

from typing import Any, Final

from alerts.config import CONFIG, percent
from dashboards import queries as q
from dashboards.common import EXPORTER, TENANT, Query, build, stat, timeseries

UID: Final = "scaisend-spam-reports"
TITLE: Final = "ScaiSend / Spam-report rate per tenant"


def dashboard() -> dict[str, Any]:
    tenants = (EXPORTER, TENANT)
    threshold = CONFIG.tenant_spam_report_rate
    return build(
        UID,
        TITLE,
        "Today's spam reports / delivered per tenant, from daily_stats.",
        [
            (
                10,
                [
                    timeseries(
                        f"Spam-report rate today per tenant (threshold {percent(threshold)})",
                        [
                            Query(q.tenant_spam_report_rate(tenants), "{{tenant}}"),
                        ],
                        "percentunit",
                        threshold=threshold,
                        description="A tenant above the red line for 15 minutes pages (list accident or leaked key).",
                    ),
                ],
            ),
            (
                9,
                [
                    timeseries(
                        "Spam reports and unsubscribes today, per tenant",
                        [
                            Query(q.tenant_stat(stat_name, tenants), f"{{{{tenant}}}} {stat_name}")
                            for stat_name in ("spam_reports", "spam_report_drops", "unsubscribes", "unsubscribe_drops")
                        ],
                        "short",
                    ),
                ],
            ),
            (
                5,
                [
                    stat(
                        "Spam-report rate today (selected tenants)",
                        Query(q.tenants_ratio("spam_reports", "delivered", tenants)),
                        "percentunit",
                        threshold=threshold,
                    ),
                    stat(
                        "Spam reports today (selected tenants)",
                        Query(f"sum({q.tenant_stat('spam_reports', tenants)})"),
                        "short",
                    ),
                ],
            ),
        ],
    )
