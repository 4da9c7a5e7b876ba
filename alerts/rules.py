"""Alerting and recording rules as data (docs/observability.md, docs/runbooks.md, docs/architecture.md, D27).

Each group is built from :mod:`alerts.config` thresholds and the shared PromQL in :mod:`dashboards.queries`.
Every alert gets a ``severity`` label, a static ``summary`` sentence, a templated ``description`` and a ``runbook_url``
derived from its name; :func:`rule_groups` is the Prometheus rule file as a dict. Recording rules follow
``level:metric:operation``. Each alert also names the alerts that should silence it (:class:`Inhibitor`), from which
:mod:`alerts.alertmanager` builds its inhibit rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from alerts.config import CONFIG, Config, ServiceAlerting, percent
from dashboards import queries as q
from scaisend import metrics, processes

CRITICAL: Final = "critical"
WARNING: Final = "warning"


@dataclass(frozen=True)
class Inhibitor:
    """Alerts that, while firing, silence the alert that lists them (equal on ``equal`` labels)."""

    sources: tuple[str, ...]
    equal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    inhibited_by: tuple[Inhibitor, ...] = ()

    def to_rule(self, config: Config) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity},
            "annotations": {
                "description": self.description,
                "runbook_url": config.runbook_url(self.name),
                "summary": self.summary,
            },
        }


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str

    def to_rule(self, config: Config) -> dict[str, Any]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Recording | Alert, ...]

    def to_dict(self, config: Config) -> dict[str, Any]:
        return {"name": self.name, "rules": [rule.to_rule(config) for rule in self.rules]}


def service_alert_names(process: processes.Process) -> tuple[str, str]:
    """``(ScaiSend<Title>Down, ScaiSend<Title>Absent)`` for one scraped process."""
    stem = f"ScaiSend{process.title.capitalize()}"
    return f"{stem}Down", f"{stem}Absent"


def service_down(process: processes.Process) -> Inhibitor:
    """The process's Down/Absent alerts: while one fires, alerts derived from that process are noise."""
    return Inhibitor(service_alert_names(process))


def seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


def _sel(config: Config, process: processes.Process, *extra: str) -> tuple[str, ...]:
    return (config.selectors[process.name], *extra)


EMAIL_PROCESS_MATCHER: Final = 'queue="email:process"'


def api_group(c: Config) -> Group:
    api = _sel(c, processes.API)
    window = c.api_5xx_window
    rate_record = f"job:scaisend_http_requests:rate{window}"
    ratio_record = f"job:scaisend_http_requests_5xx:ratio_rate{window}"
    job = c.selectors["api"]
    return Group(
        "scaisend-api",
        (
            Recording(rate_record, q.http_request_rate(api, window, by=("job",))),
            Recording(ratio_record, q.http_5xx_ratio(api, window, by=("job",))),
            Alert(
                "ScaiSendApi5xxRatioHigh",
                f"{ratio_record}{{{job}}} > {c.api_5xx_ratio} and {rate_record}{{{job}}} > {c.api_min_request_rate}",
                c.api_5xx_for,
                CRITICAL,
                "API requests are failing with 5xx responses.",
                f"{{{{ $value | humanizePercentage }}}} of requests to {{{{ $labels.job }}}} returned 5xx over the last "
                f"{window} (threshold {percent(c.api_5xx_ratio)}).",
                (service_down(processes.API),),
            ),
        ),
    )


def queue_group(c: Config) -> Group:
    exporter = _sel(c, processes.EXPORTER)
    backlog = (service_down(processes.WORKER), service_down(processes.SMTP), service_down(processes.EXPORTER))
    high = Alert(
        "ScaiSendQueueDepthHigh",
        f"{q.queue_depth(exporter)} > {c.queue_depth_ceiling}",
        c.queue_depth_for,
        CRITICAL,
        "A queue holds more jobs than its ceiling.",
        f"Queue {{{{ $labels.queue }}}} holds {{{{ $value | humanize }}}} jobs (ceiling {c.queue_depth_ceiling}).",
        backlog,
    )
    growing = Alert(
        "ScaiSendQueueDepthGrowing",
        f"{q.queue_depth(exporter)} > {c.queue_growth_min_depth} "
        f"and on (queue) {q.queue_growth(exporter, c.queue_growth_window)} > 0",
        c.queue_growth_for,
        WARNING,
        "A queue has been growing for 15 minutes or more.",
        f"Queue {{{{ $labels.queue }}}} has kept growing over {c.queue_growth_window} windows and holds "
        "{{ $value | humanize }} jobs.",
        (*backlog, Inhibitor((high.name,), ("queue",))),
    )
    return Group("scaisend-queues", (high, growing))


def tenant_group(c: Config) -> Group:
    exporter = _sel(c, processes.EXPORTER)
    inhibit = (service_down(processes.EXPORTER),)
    return Group(
        "scaisend-tenants",
        (
            Alert(
                "ScaiSendTenantBounceRateHigh",
                f"{q.tenant_bounce_rate(exporter)} > {c.tenant_bounce_rate} "
                f"and on (tenant) {q.tenant_stat('requests', exporter)} >= {c.tenant_bounce_min_requests}",
                c.tenant_bounce_for,
                WARNING,
                f"A tenant's bounce rate today is above {percent(c.tenant_bounce_rate)}.",
                "Tenant {{ $labels.tenant }} has bounced {{ $value | humanizePercentage }} of today's requests "
                f"(threshold {percent(c.tenant_bounce_rate)}).",
                inhibit,
            ),
            Alert(
                "ScaiSendTenantSpamReportRateHigh",
                f"{q.tenant_spam_report_rate(exporter)} > {c.tenant_spam_report_rate} "
                f"and on (tenant) {q.tenant_stat('delivered', exporter)} >= {c.tenant_spam_min_delivered}",
                c.tenant_spam_for,
                CRITICAL,
                f"A tenant's spam-report rate today is above {percent(c.tenant_spam_report_rate)}.",
                "Tenant {{ $labels.tenant }} has spam reports on {{ $value | humanizePercentage }} of today's delivered "
                f"mail (threshold {percent(c.tenant_spam_report_rate)}).",
                inhibit,
            ),
        ),
    )


def exporter_group(c: Config) -> Group:
    exporter = _sel(c, processes.EXPORTER)
    api_sends = _sel(c, processes.API, q.MAIL_SEND, 'status_class="2xx"')
    window_minutes = metrics.WEBHOOK_RECENT_WINDOW_SECONDS // 60
    exporter_down = service_down(processes.EXPORTER)
    return Group(
        "scaisend-exporter",
        (
            Alert(
                "ScaiSendExporterFailing",
                f"{metrics.EXPORTER_UP}{q.selector(*exporter)} == 0",
                c.exporter_failing_for,
                WARNING,
                "The exporter cannot read one of its sources.",
                "Exporter {{ $labels.instance }} reports a failed collection; check "
                f"{metrics.EXPORTER_COLLECTOR_SUCCESS} for the collector.",
            ),
            Alert(
                "ScaiSendDailyStatsStale",
                f"{q.stats_age_seconds(exporter)} > {c.stats_stale_seconds} "
                f"and on () {q.http_request_rate(api_sends, c.stats_traffic_window)} > 0",
                c.stats_stale_for,
                WARNING,
                "The daily_stats table is not being updated while mail is accepted.",
                "The newest daily_stats update is {{ $value | humanizeDuration }} old while the API accepted mail in the "
                f"last {c.stats_traffic_window}.",
                (exporter_down, service_down(processes.WORKER)),
            ),
            Alert(
                "ScaiSendWebhookDeliverySuccessLow",
                f"{q.webhook_success_ratio(exporter)} < {c.webhook_success_min_ratio} "
                f"and on () {q.webhook_deliveries(exporter)} >= {c.webhook_min_deliveries}",
                c.webhook_for,
                WARNING,
                "Too many webhook deliveries are failing.",
                f"Only {{{{ $value | humanizePercentage }}}} of webhook deliveries in the last {window_minutes} minutes "
                f"succeeded (threshold {percent(c.webhook_success_min_ratio)}).",
                (exporter_down, service_down(processes.WORKER)),
            ),
        ),
    )


def reputation_group(c: Config) -> Group:
    exporter = _sel(c, processes.EXPORTER)
    listed = metrics.BLOCKLIST_LISTED_SPEC.name

    def dns(check: str) -> str:
        matcher = f'check="{check}"'
        return f"max by (domain) ({metrics.DOMAIN_DNS_OK_SPEC.name}{q.selector(*exporter, matcher)})"

    def drift(name: str, check: str, label: str, why: str) -> Alert:
        return Alert(
            name,
            f"{dns(check)} == 0",
            c.dns_drift_for,
            WARNING,
            f"A sender domain's {label} record has drifted.",
            f"The {label} record of {{{{ $labels.domain }}}} fails its check: {why}.",
        )

    return Group(
        "scaisend-reputation",
        (
            Alert(
                "ScaiSendBlocklisted",
                f"max by (blocklist, target, target_kind) ({listed}{q.selector(*exporter)}) == 1",
                c.blocklisted_for,
                CRITICAL,
                "A sending address or sender domain is on a DNS blocklist.",
                "{{ $labels.target_kind }} {{ $labels.target }} is listed on {{ $labels.blocklist }}: receivers that "
                "use the list refuse or junk its mail.",
            ),
            Alert(
                "ScaiSendDkimRecordBroken",
                f"{dns('dkim')} == 0",
                c.dkim_record_for,
                CRITICAL,
                "A sender domain's DKIM record is missing or differs from the active key.",
                "The DKIM record of {{ $labels.domain }} is missing or does not carry the key ScaiSend signs with: "
                "its mail fails DKIM, and DMARC with it.",
            ),
            drift("ScaiSendSpfRecordDrift", "spf", "SPF", "it no longer authorises ScaiSend's sending host"),
            drift("ScaiSendDmarcRecordDrift", "dmarc", "DMARC", "missing, or not the policy chosen for the domain"),
            drift("ScaiSendDomainMxMissing", "mx", "MX", "no MX accepts mail for it (replies and DSNs are lost)"),
            Alert(
                "ScaiSendBlocklistChecksFailing",
                f"max by (blocklist, target) ({metrics.BLOCKLIST_CHECK_ERROR_SPEC.name}{q.selector(*exporter)}) == 1",
                c.reputation_checks_failing_for,
                WARNING,
                "Blocklist look-ups have been failing for an hour.",
                "Looking up {{ $labels.target }} on {{ $labels.blocklist }} has failed for an hour (the list refuses "
                "or rate-limits our queries, or DNS does not answer): a listing would go unseen.",
            ),
            Alert(
                "ScaiSendDnsChecksFailing",
                f"max by (domain, check) ({metrics.DOMAIN_DNS_CHECK_ERROR_SPEC.name}{q.selector(*exporter)}) == 1",
                c.reputation_checks_failing_for,
                WARNING,
                "A sender domain's DNS checks have been failing for an hour.",
                "DNS has not answered the {{ $labels.check }} check of {{ $labels.domain }} for an hour: a broken "
                "record would go unseen.",
            ),
        ),
    )


def _failure_ratio_alert(
    name: str,
    process: processes.Process,
    failures: tuple[str, tuple[str, ...]],
    attempts: tuple[str, tuple[str, ...]],
    window: str,
    ratio: float,
    min_rate: float,
    for_: str,
    summary: str,
    what: str,
) -> Alert:
    return Alert(
        name,
        f"{q.counter_ratio(failures, attempts, window)} > {ratio} and on () {q.counter_rate(*attempts, window)} "
        f"> {min_rate}",
        for_,
        WARNING,
        summary,
        f"{{{{ $value | humanizePercentage }}}} of {what} over the last {window} (threshold {percent(ratio)}).",
        (service_down(process),),
    )


def worker_group(c: Config) -> Group:
    worker = _sel(c, processes.WORKER)
    return Group(
        "scaisend-worker",
        (
            _failure_ratio_alert(
                "ScaiSendRenderErrorsHigh",
                processes.WORKER,
                (metrics.RENDER_ERRORS_SPEC.name, worker),
                (metrics.WORKER_JOBS_SPEC.name, (*worker, EMAIL_PROCESS_MATCHER)),
                c.render_window,
                c.render_error_ratio,
                c.render_min_job_rate,
                c.render_for,
                "Messages are failing to render.",
                "email:process jobs hit a template render error",
            ),
        ),
    )


def smtp_group(c: Config) -> Group:
    smtp = _sel(c, processes.SMTP)
    dkim_record = f"job:scaisend_smtp_dkim_signing_duration_seconds:p99_{c.dkim_window}"
    return Group(
        "scaisend-smtp",
        (
            Recording(
                dkim_record,
                q.histogram_quantile(0.99, metrics.DKIM_SIGNING_DURATION_SPEC, smtp, c.dkim_window, by=("job",)),
            ),
            Alert(
                "ScaiSendDkimSigningSlow",
                f"{dkim_record}{q.selector(*smtp)} > {c.dkim_p99_seconds} and on (job) "
                f"{q.counter_rate(metrics.DKIM_SIGNING_DURATION_SPEC.name + '_count', smtp, c.dkim_window, ('job',))} "
                f"> {c.dkim_min_signing_rate}",
                c.dkim_for,
                WARNING,
                "DKIM signing is slow.",
                "p99 DKIM signing time on {{ $labels.job }} is {{ $value | humanizeDuration }} "
                f"(threshold {seconds_text(c.dkim_p99_seconds)}).",
                (service_down(processes.SMTP),),
            ),
            _failure_ratio_alert(
                "ScaiSendMxResolutionFailuresHigh",
                processes.SMTP,
                (metrics.MX_FAILURES_SPEC.name, smtp),
                (metrics.MX_LOOKUPS_SPEC.name, smtp),
                c.mx_window,
                c.mx_failure_ratio,
                c.mx_min_lookup_rate,
                c.mx_for,
                "MX lookups are failing.",
                "MX lookups failed",
            ),
            Alert(
                "ScaiSendInboundForgedReports",
                f"{q.counter_rate(metrics.INBOUND_UNVERIFIED_SPEC.name, smtp, c.forged_reports_window, ('tenant',))}"
                f" * 3600 > {c.forged_reports_per_hour:g}",
                c.forged_reports_for,
                WARNING,
                "Someone is sending forged bounces or complaints about a tenant's mail.",
                "{{ $value | humanize }} reports an hour about messages of tenant {{ $labels.tenant }} carried no valid "
                f"signed return path (threshold {c.forged_reports_per_hour:g}); they suppressed nothing.",
                (service_down(processes.SMTP),),
            ),
            _failure_ratio_alert(
                "ScaiSendTlsHandshakeFailuresHigh",
                processes.SMTP,
                (metrics.TLS_FAILURES_SPEC.name, smtp),
                (metrics.TLS_HANDSHAKES_SPEC.name, smtp),
                c.tls_window,
                c.tls_failure_ratio,
                c.tls_min_handshake_rate,
                c.tls_for,
                "Outbound STARTTLS handshakes are failing.",
                "STARTTLS handshakes failed",
            ),
        ),
    )


def _service_alerts(service: ServiceAlerting, c: Config) -> tuple[Alert, Alert]:
    process = service.process
    down, absent = service_alert_names(process)
    up = f"up{q.selector(c.selectors[process.name])}"
    return (
        Alert(
            down,
            f"{up} == 0",
            service.down_for,
            service.severity,
            f"A ScaiSend {process.title} target is down.",
            "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }} "
            f"(port {process.port} by default).",
        ),
        Alert(
            absent,
            f"absent({up})",
            service.absent_for,
            service.severity,
            f"No ScaiSend {process.title} target is being scraped.",
            "Prometheus has no target for job {{ $labels.job }}: the "
            f"{process.title} service is not running or service discovery lost it.",
        ),
    )


def services_group(c: Config) -> Group:
    return Group("scaisend-services", tuple(a for s in c.services for a in _service_alerts(s, c)))


GROUP_BUILDERS: Final = (
    services_group,
    api_group,
    worker_group,
    smtp_group,
    queue_group,
    tenant_group,
    exporter_group,
    reputation_group,
)


def groups(config: Config = CONFIG) -> tuple[Group, ...]:
    return tuple(build(config) for build in GROUP_BUILDERS)


def alerts(config: Config = CONFIG) -> tuple[Alert, ...]:
    return tuple(rule for group in groups(config) for rule in group.rules if isinstance(rule, Alert))


def rule_groups(config: Config = CONFIG) -> dict[str, Any]:
    """The Prometheus rule file (``alerts/out/rules.yaml``) as a dict."""
    return {"groups": [group.to_dict(config) for group in groups(config)]}
