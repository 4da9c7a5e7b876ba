"""The mixin ``_config`` (docs/observability.md, docs/architecture.md, D27): selectors, thresholds, windows, minimum volumes
and Alertmanager timings in one place.

Every latency and ratio alert has a minimum-volume guard next to its threshold (``*_min_*``): a quantile or a ratio
computed from a handful of events says nothing, and a healthy stack with little traffic must page no one.

Alert rules (:mod:`alerts.rules`), Alertmanager routing (:mod:`alerts.alertmanager`), the dashboards' threshold lines
and the generated promtool tests all read :data:`CONFIG`, so a threshold cannot drift between them. The four alerts
of the operations guide (docs/observability.md, docs/runbooks.md) are the first four blocks below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from scaisend import processes

_DURATION_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(duration: str) -> int:
    """``"15m"`` → ``900``: a Prometheus duration with one unit (all this config uses)."""
    number, unit = duration[:-1], duration[-1]
    if unit not in _DURATION_UNITS or not number.isdigit():
        raise ValueError(f"unsupported duration {duration!r}")
    return int(number) * _DURATION_UNITS[unit]


def percent(ratio: float) -> str:
    """``0.005`` → ``"0.5%"``: how thresholds appear in descriptions, docs and panel titles."""
    return f"{ratio * 100:g}%"


@dataclass(frozen=True)
class ServiceAlerting:
    """How the ``up``/``absent`` alerts treat one scraped process."""

    process: processes.Process
    severity: str
    down_for: str = "5m"
    absent_for: str = "15m"


@dataclass(frozen=True)
class Config:
    # Where every alert's runbook_url points: <base>#<lowercased alert name>.
    runbook_base_url: str = "https://github.com/scailabs/scaisend/blob/main/docs/runbooks.md"

    # (1) API 5xx ratio over a window, only with enough traffic to mean something (docs/observability.md, docs/runbooks.md alert 1).
    api_5xx_ratio: float = 0.005
    api_5xx_window: str = "5m"
    api_min_request_rate: float = 1.0  # requests per second over the window, all routes
    api_5xx_for: str = "5m"

    # (2) Queue depth growing for 15+ minutes, or above a ceiling (docs/observability.md, docs/runbooks.md alert 2). Per queue.
    queue_growth_window: str = "15m"
    queue_growth_for: str = "15m"
    queue_growth_min_depth: int = 500  # a queue this short is not a backlog even when it grows
    queue_depth_ceiling: int = 100_000
    queue_depth_for: str = "5m"

    # (3) Today's bounces / requests per tenant, once the tenant has sent enough today (docs/observability.md, docs/runbooks.md alert 3).
    tenant_bounce_rate: float = 0.02
    tenant_bounce_min_requests: int = 500
    tenant_bounce_for: str = "15m"

    # (4) Today's spam reports / delivered per tenant (docs/observability.md, docs/runbooks.md alert 4: list accident or leaked key).
    tenant_spam_report_rate: float = 0.001
    tenant_spam_min_delivered: int = 1000
    tenant_spam_for: str = "15m"

    # daily_stats is updated live (D9): no update for this long while the API accepts mail means events are lost.
    stats_stale_seconds: int = 1800
    stats_traffic_window: str = "30m"
    stats_stale_for: str = "10m"

    # Exporter reporting a failed collection (scaisend_exporter_up == 0).
    exporter_failing_for: str = "10m"

    # Webhook deliveries (exporter's recent window): success ratio below this, with at least this many deliveries.
    webhook_success_min_ratio: float = 0.99
    webhook_min_deliveries: int = 100
    webhook_for: str = "15m"

    # DKIM signing p99 (D14: OpenSSL about 0.3 ms, pure-Python RSA about 8 ms), only with at least this many
    # signatures per second over the window (0.5/s over 5m = 150 signatures): below about 100 samples the p99 is the
    # slowest signature, and one cold first signature (key load, tens of ms) would page a quiet stack (issue 16).
    dkim_p99_seconds: float = 0.01
    dkim_min_signing_rate: float = 0.5
    dkim_window: str = "5m"
    dkim_for: str = "15m"

    # MX resolution failures / MX lookups, with a floor on lookups per second.
    mx_failure_ratio: float = 0.1
    mx_min_lookup_rate: float = 0.05
    mx_window: str = "15m"
    mx_for: str = "15m"

    # STARTTLS handshake failures / handshakes, with a floor on handshakes per second.
    tls_failure_ratio: float = 0.1
    tls_min_handshake_rate: float = 0.05
    tls_window: str = "15m"
    tls_for: str = "15m"

    # Inbound reports naming one tenant's messages that no signed return path proved (D41: forged or altered DSNs
    # and complaints), per hour over the window. A few a day are stray old-format DSNs; dozens an hour are an attack
    # on that tenant's lists (they suppress nothing, but someone is trying).
    forged_reports_per_hour: float = 20
    forged_reports_window: str = "1h"
    forged_reports_for: str = "5m"

    # Render errors / email:process jobs, with a floor on jobs per second.
    render_error_ratio: float = 0.01
    render_min_job_rate: float = 0.05
    render_window: str = "15m"
    render_for: str = "15m"

    # Reputation (exporter, docs/reputation.md): a listing or a broken DKIM record pages a minute after
    # the check that sees it (checks run every REPUTATION_CHECK_INTERVAL; one minute is the least "for" our rules
    # allow); SPF/DMARC/MX drift opens a ticket once it has lasted; checks failing (lists refusing us, DNS down) open a ticket after an hour.
    blocklisted_for: str = "1m"
    dkim_record_for: str = "1m"
    dns_drift_for: str = "30m"
    reputation_checks_failing_for: str = "1h"

    # Label matchers selecting each process's scrape job (keys are processes.Process.name).
    selectors: dict[str, str] = field(default_factory=lambda: {p.name: p.selector for p in processes.PROCESSES})

    # up == 0 and absent(up) per process; the exporter is not on the mail path, so it only opens a ticket.
    services: tuple[ServiceAlerting, ...] = field(
        default_factory=lambda: (
            ServiceAlerting(processes.API, "critical"),
            ServiceAlerting(processes.WORKER, "critical"),
            ServiceAlerting(processes.SMTP, "critical"),
            ServiceAlerting(processes.EXPORTER, "warning"),
        )
    )

    # Alertmanager: receivers (placeholder URLs an operator replaces) and timings.
    pager_receiver: str = "scaisend-pager"
    ticket_receiver: str = "scaisend-ticket"
    pager_url: str = "https://pager.example.invalid/scaisend"
    ticket_url: str = "https://tickets.example.invalid/scaisend"
    group_by: tuple[str, ...] = ("alertname", "tenant")
    group_wait: str = "30s"
    group_interval: str = "5m"
    pager_repeat_interval: str = "1h"
    ticket_repeat_interval: str = "12h"

    def runbook_url(self, alertname: str) -> str:
        return f"{self.runbook_base_url}#{alertname.lower()}"


CONFIG: Final = Config()
