"""The one metric catalogue (docs/observability.md, docs/architecture.md "Metrics", docs/stats.md, D5, D9, docs/runbooks.md, D2, D17).

Every metric ScaiSend exposes is declared here once, as data (:class:`MetricSpec`): name, type, help, label names,
the bounded label values and histogram buckets. The API, worker and SMTP processes import the live
``prometheus_client`` objects below; the exporter (a separate single-process service with custom collectors) imports
the exporter *names* and builds ``GaugeMetricFamily`` objects from them on every scrape; the alert rules, dashboards
and tests iterate :data:`CATALOGUE`.

Conventions: prefix ``scaisend_``, base units, counters end in ``_total``, label values are bounded (never an email
address or message id), and the ``tenant`` label appears only on exporter gauges and on
``scaisend_smtp_inbound_unverified_reports_total`` (D41: forged reports are an attack on one tenant's lists, and the
alert must say which; the values are bounded by the tenants).

Multiprocess (several uvicorn workers): prometheus-client picks its value store when it is imported, from the
``PROMETHEUS_MULTIPROC_DIR`` environment variable. The launcher must therefore export that variable (and wipe the
directory) before the API processes start. ``/metrics`` then calls :func:`render_metrics` with the directory taken
from the settings object, which aggregates every worker's files with a ``MultiProcessCollector``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from scaisend.processes import API, EXPORTER, SMTP, WORKER, Process
from scaisend.queues import QUEUE_NAMES
from scaisend.stat_metrics import STAT_METRICS

PREFIX: Final = "scaisend_"


class Kind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True)
class MetricSpec:
    """One metric family. ``label_values`` lists the allowed values of each bounded label (empty = open set)."""

    name: str
    kind: Kind
    help: str
    process: Process
    labels: tuple[str, ...] = ()
    label_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    buckets: tuple[float, ...] = ()

    @property
    def series_names(self) -> tuple[str, ...]:
        """The sample names this family exposes (histograms expose ``_bucket``, ``_sum`` and ``_count``)."""
        if self.kind is Kind.HISTOGRAM:
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


# --- bounded label values -------------------------------------------------------------------------------------------
STATUS_CLASSES: Final = ("1xx", "2xx", "3xx", "4xx", "5xx")
JOB_OUTCOMES: Final = ("success", "retry", "failure")
WEBHOOK_OUTCOMES: Final = ("success", "failure")
CONNECTION_OUTCOMES: Final = ("success", "timeout", "refused", "error")
MX_FAILURE_REASONS: Final = ("nxdomain", "no_answer", "timeout", "error")
DELIVERY_RESULTS: Final = ("delivered", "deferred", "bounced", "blocked", "failed")
INBOUND_OUTCOMES: Final = ("parsed", "unmatched", "unparseable", "unverified")
INBOUND_REPORT_KINDS: Final = ("dsn", "fbl")
UNVERIFIED_REASONS: Final = ("unsigned", "bad_signature", "other_recipient")
EXPORTER_COLLECTORS: Final = ("daily_stats", "redis_queues", "webhook_deliveries", "reputation")
TARGET_KINDS: Final = ("ip", "domain")
DNS_CHECKS: Final = ("dkim", "spf", "dmarc", "mx")
UNMATCHED_ROUTE: Final = "unmatched"
IDENTITY_EVENT_FAMILIES: Final = ("partner", "tenant", "user", "group", "group_membership", "unknown")
IDENTITY_EVENT_OUTCOMES: Final = ("applied", "duplicate", "ignored", "rejected")
WEBHOOK_RECENT_WINDOW_SECONDS: Final = 900

# --- buckets --------------------------------------------------------------------------------------------------------
HTTP_DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
JOB_DURATION_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
DKIM_DURATION_BUCKETS: Final = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


def _spec(name: str, kind: Kind, help_: str, process: Process, **labels: tuple[str, ...]) -> MetricSpec:
    """A spec whose labels are given as ``label=(allowed values…)``; an empty tuple means an open set."""
    return MetricSpec(
        name=PREFIX + name,
        kind=kind,
        help=help_,
        process=process,
        labels=tuple(labels),
        label_values={k: v for k, v in labels.items() if v},
    )


# --- API: RED metrics (served on the API port, multiprocess-safe) ---------------------------------------------------
HTTP_REQUESTS_SPEC: Final = _spec(
    "http_requests_total",
    Kind.COUNTER,
    "HTTP requests handled by the API, by route template, method and status class.",
    API,
    route=(),
    method=(),
    status_class=STATUS_CLASSES,
)
HTTP_REQUEST_DURATION_SPEC: Final = MetricSpec(
    PREFIX + "http_request_duration_seconds",
    Kind.HISTOGRAM,
    "Time from request received to response finished, by route template and method.",
    API,
    ("route", "method"),
    buckets=HTTP_DURATION_BUCKETS,
)
IDENTITY_EVENTS_SPEC: Final = _spec(
    "identity_events_total",
    Kind.COUNTER,
    "ScaiKey identity events received at /webhooks/scaikey, by event family and outcome (D54).",
    API,
    family=IDENTITY_EVENT_FAMILIES,
    outcome=IDENTITY_EVENT_OUTCOMES,
)

# --- worker ---------------------------------------------------------------------------------------------------------
WORKER_JOBS_SPEC: Final = _spec(
    "worker_jobs_total",
    Kind.COUNTER,
    "Background jobs finished, by queue and outcome.",
    WORKER,
    queue=QUEUE_NAMES,
    outcome=JOB_OUTCOMES,
)
WORKER_JOB_DURATION_SPEC: Final = MetricSpec(
    PREFIX + "worker_job_duration_seconds",
    Kind.HISTOGRAM,
    "Run time of one background job, by queue.",
    WORKER,
    ("queue",),
    {"queue": QUEUE_NAMES},
    JOB_DURATION_BUCKETS,
)
RENDER_ERRORS_SPEC: Final = _spec(
    "worker_render_errors_total",
    Kind.COUNTER,
    "Messages whose template could not be rendered (message FAILED).",
    WORKER,
)
PROCESSED_RECIPIENTS_SPEC: Final = _spec(
    "worker_processed_recipients_total",
    Kind.COUNTER,
    "Recipients (to, cc and bcc) given a processed event when the worker took their message (D5).",
    WORKER,
)
WEBHOOK_DELIVERIES_SPEC: Final = _spec(
    "webhook_deliveries_total",
    Kind.COUNTER,
    "Webhook POST attempts to tenant endpoints, by outcome.",
    WORKER,
    outcome=WEBHOOK_OUTCOMES,
)

# --- SMTP service ---------------------------------------------------------------------------------------------------
SMTP_CONNECTIONS_SPEC: Final = _spec(
    "smtp_connections_total",
    Kind.COUNTER,
    "Outbound SMTP connections opened to MX hosts, by outcome.",
    SMTP,
    outcome=CONNECTION_OUTCOMES,
)
MX_LOOKUPS_SPEC: Final = _spec(
    "smtp_mx_lookups_total", Kind.COUNTER, "MX lookups sent to the resolver (cache misses).", SMTP
)
MX_FAILURES_SPEC: Final = _spec(
    "smtp_mx_resolution_failures_total",
    Kind.COUNTER,
    "MX lookups that yielded no usable host, by reason.",
    SMTP,
    reason=MX_FAILURE_REASONS,
)
TLS_HANDSHAKES_SPEC: Final = _spec(
    "smtp_tls_handshakes_total", Kind.COUNTER, "STARTTLS handshakes attempted on outbound connections.", SMTP
)
TLS_FAILURES_SPEC: Final = _spec(
    "smtp_tls_handshake_failures_total", Kind.COUNTER, "STARTTLS handshakes that failed on outbound connections.", SMTP
)
SMTP_DELIVERIES_SPEC: Final = _spec(
    "smtp_deliveries_total", Kind.COUNTER, "Outbound delivery attempts, by result.", SMTP, result=DELIVERY_RESULTS
)
RETRY_QUEUE_DEPTH_SPEC: Final = _spec(
    "smtp_retry_queue_depth", Kind.GAUGE, "Messages waiting for a scheduled delivery retry (D10).", SMTP
)
DKIM_SIGNING_DURATION_SPEC: Final = MetricSpec(
    PREFIX + "smtp_dkim_signing_duration_seconds",
    Kind.HISTOGRAM,
    "Time to DKIM-sign one message (D14).",
    SMTP,
    buckets=DKIM_DURATION_BUCKETS,
)
INBOUND_DSN_SPEC: Final = _spec(
    "smtp_inbound_dsn_total",
    Kind.COUNTER,
    "Inbound bounce reports (RFC 3464 DSNs and plain-text bounces), by outcome.",
    SMTP,
    outcome=INBOUND_OUTCOMES,
)
INBOUND_FBL_SPEC: Final = _spec(
    "smtp_inbound_fbl_total",
    Kind.COUNTER,
    "Inbound feedback-loop complaint reports (RFC 5965), by outcome.",
    SMTP,
    outcome=INBOUND_OUTCOMES,
)
INBOUND_UNVERIFIED_SPEC: Final = _spec(
    "smtp_inbound_unverified_reports_total",
    Kind.COUNTER,
    "Inbound bounces and complaints that changed nothing because no signed return path proved them (D41), by "
    "report kind, reason and the tenant of the message they named.",
    SMTP,
    report=INBOUND_REPORT_KINDS,
    reason=UNVERIFIED_REASONS,
    tenant=(),
)


# --- exporter: names only; the exporter builds these families on every scrape --------------------------------------
def tenant_stat_metric(stat: str) -> str:
    """Name of the per-tenant gauge of today's value of one ``daily_stats`` metric (docs/stats.md, D5, D9), e.g. ``bounces``."""
    if stat not in STAT_METRICS:
        raise ValueError(f"unknown daily_stats metric {stat!r}")
    return f"{PREFIX}tenant_{stat}_today"


TENANT_STAT_SPECS: Final[dict[str, MetricSpec]] = {
    stat: MetricSpec(
        tenant_stat_metric(stat),
        Kind.GAUGE,
        f"Today's (UTC) {stat} for the tenant, all categories, from daily_stats.",
        EXPORTER,
        ("tenant",),
    )
    for stat in STAT_METRICS
}
TENANT_STATS_UPDATED_SPEC: Final = _spec(
    "tenant_stats_last_update_timestamp_seconds",
    Kind.GAUGE,
    "Unix time of the most recent update to the tenant's daily_stats rows.",
    EXPORTER,
    tenant=(),
)
QUEUE_DEPTH_SPEC: Final = _spec(
    "queue_depth",
    Kind.GAUGE,
    "Jobs waiting in a queue, measured by key type (ZCARD for arq queues, D2).",
    EXPORTER,
    queue=QUEUE_NAMES,
)
WEBHOOK_DELIVERIES_RECENT_SPEC: Final = _spec(
    "webhook_deliveries_recent",
    Kind.GAUGE,
    f"Webhook deliveries finished in the last {WEBHOOK_RECENT_WINDOW_SECONDS} seconds, by outcome.",
    EXPORTER,
    outcome=WEBHOOK_OUTCOMES,
)
# Reputation (docs/reputation.md): ``target`` (a sending address or sender domain), ``blocklist`` (a configured zone)
# and ``domain`` are open label sets bounded by configuration: the operator's addresses, lists and active domains.
BLOCKLIST_LISTED_SPEC: Final = _spec(
    "blocklist_listed",
    Kind.GAUGE,
    "1 if the last successful look-up found the target on the DNS blocklist, else 0.",
    EXPORTER,
    blocklist=(),
    target=(),
    target_kind=TARGET_KINDS,
)
BLOCKLIST_CHECK_ERROR_SPEC: Final = _spec(
    "blocklist_check_error",
    Kind.GAUGE,
    "1 if the last look-up of the target on the blocklist failed (refused, rate limited, no answer), else 0.",
    EXPORTER,
    blocklist=(),
    target=(),
)
BLOCKLIST_LAST_CHECK_SPEC: Final = _spec(
    "blocklist_last_check_timestamp_seconds",
    Kind.GAUGE,
    "Unix time of the last look-up of the target on the blocklist.",
    EXPORTER,
    blocklist=(),
    target=(),
)
DOMAIN_DNS_OK_SPEC: Final = _spec(
    "domain_dns_ok",
    Kind.GAUGE,
    "1 if the domain's record passed the check at the last successful look-up (DKIM equal to the active key, SPF, "
    "DMARC policy, MX), else 0.",
    EXPORTER,
    domain=(),
    check=DNS_CHECKS,
)
DOMAIN_DNS_CHECK_ERROR_SPEC: Final = _spec(
    "domain_dns_check_error",
    Kind.GAUGE,
    "1 if DNS did not answer the last check of the domain's record (timeout, SERVFAIL, REFUSED), else 0.",
    EXPORTER,
    domain=(),
    check=DNS_CHECKS,
)
DOMAIN_DNS_LAST_CHECK_SPEC: Final = _spec(
    "domain_dns_last_check_timestamp_seconds",
    Kind.GAUGE,
    "Unix time of the last check of the domain's record.",
    EXPORTER,
    domain=(),
    check=DNS_CHECKS,
)
EXPORTER_UP_SPEC: Final = _spec(
    "exporter_up", Kind.GAUGE, "1 if every collector succeeded in the last scrape, else 0.", EXPORTER
)
EXPORTER_COLLECTOR_SUCCESS_SPEC: Final = _spec(
    "exporter_collector_success",
    Kind.GAUGE,
    "1 if the collector succeeded in the last scrape, else 0.",
    EXPORTER,
    collector=EXPORTER_COLLECTORS,
)
EXPORTER_SCRAPE_DURATION_SPEC: Final = _spec(
    "exporter_scrape_duration_seconds",
    Kind.GAUGE,
    "Time the collector took in the last scrape.",
    EXPORTER,
    collector=EXPORTER_COLLECTORS,
)

# Names the exporter must emit (constants for its collectors).
TENANT_STATS_LAST_UPDATE: Final = TENANT_STATS_UPDATED_SPEC.name
QUEUE_DEPTH: Final = QUEUE_DEPTH_SPEC.name
WEBHOOK_DELIVERIES_RECENT: Final = WEBHOOK_DELIVERIES_RECENT_SPEC.name
EXPORTER_UP: Final = EXPORTER_UP_SPEC.name
EXPORTER_COLLECTOR_SUCCESS: Final = EXPORTER_COLLECTOR_SUCCESS_SPEC.name
EXPORTER_SCRAPE_DURATION: Final = EXPORTER_SCRAPE_DURATION_SPEC.name

CATALOGUE: Final[tuple[MetricSpec, ...]] = (
    HTTP_REQUESTS_SPEC,
    HTTP_REQUEST_DURATION_SPEC,
    IDENTITY_EVENTS_SPEC,
    WORKER_JOBS_SPEC,
    WORKER_JOB_DURATION_SPEC,
    RENDER_ERRORS_SPEC,
    PROCESSED_RECIPIENTS_SPEC,
    WEBHOOK_DELIVERIES_SPEC,
    SMTP_CONNECTIONS_SPEC,
    MX_LOOKUPS_SPEC,
    MX_FAILURES_SPEC,
    TLS_HANDSHAKES_SPEC,
    TLS_FAILURES_SPEC,
    SMTP_DELIVERIES_SPEC,
    RETRY_QUEUE_DEPTH_SPEC,
    DKIM_SIGNING_DURATION_SPEC,
    INBOUND_DSN_SPEC,
    INBOUND_FBL_SPEC,
    INBOUND_UNVERIFIED_SPEC,
    *TENANT_STAT_SPECS.values(),
    TENANT_STATS_UPDATED_SPEC,
    QUEUE_DEPTH_SPEC,
    WEBHOOK_DELIVERIES_RECENT_SPEC,
    BLOCKLIST_LISTED_SPEC,
    BLOCKLIST_CHECK_ERROR_SPEC,
    BLOCKLIST_LAST_CHECK_SPEC,
    DOMAIN_DNS_OK_SPEC,
    DOMAIN_DNS_CHECK_ERROR_SPEC,
    DOMAIN_DNS_LAST_CHECK_SPEC,
    EXPORTER_UP_SPEC,
    EXPORTER_COLLECTOR_SUCCESS_SPEC,
    EXPORTER_SCRAPE_DURATION_SPEC,
)
BY_NAME: Final[dict[str, MetricSpec]] = {spec.name: spec for spec in CATALOGUE}
SERIES_NAMES: Final[frozenset[str]] = frozenset(name for spec in CATALOGUE for name in spec.series_names)


def specs_for(process: Process) -> tuple[MetricSpec, ...]:
    return tuple(spec for spec in CATALOGUE if spec.process == process)


# --- live instruments for the API, worker and SMTP processes (default registry) ------------------------------------
def _counter(spec: MetricSpec) -> Counter:
    return Counter(spec.name, spec.help, spec.labels)


def _histogram(spec: MetricSpec) -> Histogram:
    return Histogram(spec.name, spec.help, spec.labels, buckets=spec.buckets)


HTTP_REQUESTS: Final = _counter(HTTP_REQUESTS_SPEC)
HTTP_REQUEST_DURATION: Final = _histogram(HTTP_REQUEST_DURATION_SPEC)
IDENTITY_EVENTS: Final = _counter(IDENTITY_EVENTS_SPEC)
WORKER_JOBS: Final = _counter(WORKER_JOBS_SPEC)
WORKER_JOB_DURATION: Final = _histogram(WORKER_JOB_DURATION_SPEC)
RENDER_ERRORS: Final = _counter(RENDER_ERRORS_SPEC)
PROCESSED_RECIPIENTS: Final = _counter(PROCESSED_RECIPIENTS_SPEC)
WEBHOOK_DELIVERIES: Final = _counter(WEBHOOK_DELIVERIES_SPEC)
SMTP_CONNECTIONS: Final = _counter(SMTP_CONNECTIONS_SPEC)
MX_LOOKUPS: Final = _counter(MX_LOOKUPS_SPEC)
MX_RESOLUTION_FAILURES: Final = _counter(MX_FAILURES_SPEC)
TLS_HANDSHAKES: Final = _counter(TLS_HANDSHAKES_SPEC)
TLS_HANDSHAKE_FAILURES: Final = _counter(TLS_FAILURES_SPEC)
SMTP_DELIVERIES: Final = _counter(SMTP_DELIVERIES_SPEC)
RETRY_QUEUE_DEPTH: Final = Gauge(RETRY_QUEUE_DEPTH_SPEC.name, RETRY_QUEUE_DEPTH_SPEC.help, multiprocess_mode="max")
DKIM_SIGNING_DURATION: Final = _histogram(DKIM_SIGNING_DURATION_SPEC)
INBOUND_DSN: Final = _counter(INBOUND_DSN_SPEC)
INBOUND_FBL: Final = _counter(INBOUND_FBL_SPEC)
INBOUND_UNVERIFIED: Final = _counter(INBOUND_UNVERIFIED_SPEC)

_LABELLED: Final[dict[str, Counter | Histogram]] = {
    spec.name: obj
    for spec, obj in (
        (IDENTITY_EVENTS_SPEC, IDENTITY_EVENTS),
        (WORKER_JOBS_SPEC, WORKER_JOBS),
        (WORKER_JOB_DURATION_SPEC, WORKER_JOB_DURATION),
        (WEBHOOK_DELIVERIES_SPEC, WEBHOOK_DELIVERIES),
        (SMTP_CONNECTIONS_SPEC, SMTP_CONNECTIONS),
        (MX_FAILURES_SPEC, MX_RESOLUTION_FAILURES),
        (SMTP_DELIVERIES_SPEC, SMTP_DELIVERIES),
        (INBOUND_DSN_SPEC, INBOUND_DSN),
        (INBOUND_FBL_SPEC, INBOUND_FBL),
    )
}


def initialise(process: Process) -> None:
    """Create every bounded label combination of ``process``'s metrics at 0, so ratios and ``rate()`` have series
    from the first scrape (call once at process start)."""
    for spec in specs_for(process):
        instrument = _LABELLED.get(spec.name)
        if instrument is None or set(spec.label_values) != set(spec.labels):
            continue
        combos: list[tuple[str, ...]] = [()]
        for label in spec.labels:
            combos = [(*combo, value) for combo in combos for value in spec.label_values[label]]
        for combo in combos:
            instrument.labels(*combo)


def status_class(status_code: int) -> str:
    """``503`` → ``"5xx"``: the ``status_class`` label value."""
    return f"{status_code // 100}xx"


def observe_http_request(route: str | None, method: str, status_code: int, seconds: float) -> None:
    """Record one API request; ``route`` is the route *template* (``/v3/messages/{message_id}``), never the raw path."""
    template = route or UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(template, method, status_class(status_code)).inc()
    HTTP_REQUEST_DURATION.labels(template, method).observe(seconds)


def render_metrics(multiproc_dir: str | None = None) -> tuple[bytes, str]:
    """Exposition body and content type for ``/metrics``.

    With ``multiproc_dir`` (the ``PROMETHEUS_MULTIPROC_DIR`` setting) the body aggregates every process's files
    through a fresh registry with a ``MultiProcessCollector``; without it, the default registry is rendered.
    """
    if multiproc_dir:
        registry = CollectorRegistry(support_collectors_without_names=True)
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def reset_multiproc_dir(path: str | Path) -> None:
    """Empty (or create) the multiprocess directory; call before the API's worker processes start."""
    directory = Path(path)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


def mark_process_dead(pid: int, multiproc_dir: str) -> None:
    """Drop a dead worker's live gauges from the multiprocess files (gunicorn ``child_exit`` hook)."""
    multiprocess.mark_process_dead(pid, multiproc_dir)
