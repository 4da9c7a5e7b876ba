"""Dashboard 2 of the operations guide (docs/observability.md, docs/runbooks.md): bounce rate per tenant, stacked, against the 2% alert
threshold of ``ScaiSendTenantBounceRateHigh``; and a deliverability row (docs/reputation.md): blocklist listings and
sender-domain DNS health, the leading indicators of bounces to come."""

from __future__ import annotations

from typing import Any, Final

from alerts.config import CONFIG, percent
from dashboards import queries as q
from dashboards.common import EXPORTER, TENANT, Query, build, stat, timeseries
from scaisend import metrics

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
            *deliverability_rows(),
        ],
    )


def deliverability_rows() -> list[tuple[int, list[Any]]]:
    """Listings per address/domain and list, DNS health per domain and check (1 = listed / passing)."""
    exporter = q.selector(EXPORTER)
    listed = f"{metrics.BLOCKLIST_LISTED_SPEC.name}{exporter}"
    dns_ok = f"{metrics.DOMAIN_DNS_OK_SPEC.name}{exporter}"
    return [
        (
            8,
            [
                timeseries(
                    "Blocklist listings (1 = listed)",
                    [Query(f"max by (blocklist, target) ({listed})", "{{target}} on {{blocklist}}")],
                    "short",
                    threshold=1,
                    description="Sending addresses and sender domains on each DNS blocklist; a listing pages "
                    "(ScaiSendBlocklisted). Checked every REPUTATION_CHECK_INTERVAL.",
                ),
                timeseries(
                    "Sender-domain DNS health (1 = passing)",
                    [Query(f"min by (domain, check) ({dns_ok})", "{{domain}} {{check}}")],
                    "short",
                    description="DKIM equal to the active key, SPF, DMARC policy and MX per domain; DKIM at 0 pages, "
                    "the others open a ticket after 30 minutes.",
                ),
            ],
        ),
        (
            5,
            [
                stat("Listings now", Query(f"sum({listed}) or vector(0)"), "short", threshold=1),
                stat("Failing DNS checks now", Query(f"count({dns_ok} == 0) or vector(0)"), "short", threshold=1),
            ],
        ),
    ]
