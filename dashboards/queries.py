"""PromQL shared by the dashboards and the alert rules (docs/architecture.md, D27; docs/observability.md, docs/runbooks.md).

Every function takes label matchers (``job="scaisend-api"``, optionally ``tenant=~"$tenant"``) and a range, so the
alert rules call them with the job selector from :mod:`alerts.config` and a fixed window, and the dashboards with
``$__rate_interval`` and the tenant variable. Metric names come from :mod:`scaisend.metrics` only.

Exporter series are aggregated with ``max`` (every exporter replica reports the same database and Redis), process
series with ``sum`` (replicas each count their own share).
"""

from __future__ import annotations

from scaisend import metrics

MAIL_SEND_ROUTE = "/v3/mail/send"  # route template of the send endpoint, the API's busiest and most watched
MAIL_SEND = f'route="{MAIL_SEND_ROUTE}"'


def selector(*matchers: str) -> str:
    """``selector('job="a"', 'queue="b"')`` → ``{job="a",queue="b"}``; empty matchers are skipped."""
    return "{" + ",".join(m for m in matchers if m) + "}"


def aggregate(op: str, expr: str, by: tuple[str, ...] = ()) -> str:
    """``sum by (job) (expr)``, or ``sum(expr)`` without grouping labels."""
    return f"{op} by ({', '.join(by)}) ({expr})" if by else f"{op}({expr})"


def counter_rate(metric: str, matchers: tuple[str, ...], window: str, by: tuple[str, ...] = ()) -> str:
    """Per-second rate of a counter, summed over replicas."""
    return aggregate("sum", f"rate({metric}{selector(*matchers)}[{window}])", by)


def counter_ratio(
    numerator: tuple[str, tuple[str, ...]],
    denominator: tuple[str, tuple[str, ...]],
    window: str,
    by: tuple[str, ...] = (),
) -> str:
    """Rate of one counter divided by the rate of another: an error or failure ratio."""
    return f"{counter_rate(*numerator, window, by)} / {counter_rate(*denominator, window, by)}"


def histogram_quantile(
    quantile: float, spec: metrics.MetricSpec, matchers: tuple[str, ...], window: str, by: tuple[str, ...] = ()
) -> str:
    """``quantile`` of a catalogue histogram over ``window``, grouped by ``by``."""
    return f"histogram_quantile({quantile}, {counter_rate(spec.name + '_bucket', matchers, window, ('le', *by))})"


# --- API ------------------------------------------------------------------------------------------------------------
def http_request_rate(matchers: tuple[str, ...], window: str, by: tuple[str, ...] = ()) -> str:
    return counter_rate(metrics.HTTP_REQUESTS_SPEC.name, matchers, window, by)


def http_5xx_ratio(matchers: tuple[str, ...], window: str, by: tuple[str, ...] = ()) -> str:
    """Share of API requests answered with a 5xx status (docs/observability.md, docs/runbooks.md alert 1). A process that has answered no 5xx yet has
    no 5xx series, so the numerator falls back to the total times 0: the ratio reads 0, not "no data"."""
    name = metrics.HTTP_REQUESTS_SPEC.name
    errors = counter_rate(name, (*matchers, 'status_class="5xx"'), window, by)
    total = counter_rate(name, matchers, window, by)
    return f"({errors} or {total} * 0) / {total}"


def http_latency(quantile: float, matchers: tuple[str, ...], window: str, by: tuple[str, ...] = ()) -> str:
    return histogram_quantile(quantile, metrics.HTTP_REQUEST_DURATION_SPEC, matchers, window, by)


# --- queues (exporter) ----------------------------------------------------------------------------------------------
def queue_depth(matchers: tuple[str, ...]) -> str:
    """Depth of each queue (``queue`` label), docs/observability.md, docs/runbooks.md alert 2."""
    return f"max by (queue) ({metrics.QUEUE_DEPTH}{selector(*matchers)})"


def queue_growth(matchers: tuple[str, ...], window: str) -> str:
    """Least-squares slope of each queue's depth over ``window``, in jobs per second."""
    return f"max by (queue) (deriv({metrics.QUEUE_DEPTH}{selector(*matchers)}[{window}]))"


def retry_queue_depth(matchers: tuple[str, ...]) -> str:
    """Messages the SMTP service holds for a scheduled retry (D10)."""
    return f"max({metrics.RETRY_QUEUE_DEPTH_SPEC.name}{selector(*matchers)})"


# --- tenants (exporter, today's daily_stats) ------------------------------------------------------------------------
def tenant_stat(stat: str, matchers: tuple[str, ...]) -> str:
    """Today's value of one daily_stats metric per tenant."""
    return f"max by (tenant) ({metrics.tenant_stat_metric(stat)}{selector(*matchers)})"


def tenant_ratio(numerator: str, denominator: str, matchers: tuple[str, ...]) -> str:
    return f"{tenant_stat(numerator, matchers)} / {tenant_stat(denominator, matchers)}"


def tenants_ratio(numerator: str, denominator: str, matchers: tuple[str, ...]) -> str:
    """One ratio over all selected tenants together (for stat panels)."""
    return f"sum({tenant_stat(numerator, matchers)}) / sum({tenant_stat(denominator, matchers)})"


def tenant_bounce_rate(matchers: tuple[str, ...]) -> str:
    """Today's bounces / requests per tenant (docs/stats.md, docs/observability.md, docs/runbooks.md, D5, D9 alert 3)."""
    return tenant_ratio("bounces", "requests", matchers)


def tenant_spam_report_rate(matchers: tuple[str, ...]) -> str:
    """Today's spam reports / delivered per tenant (docs/observability.md, docs/runbooks.md alert 4)."""
    return tenant_ratio("spam_reports", "delivered", matchers)


def stats_age_seconds(matchers: tuple[str, ...]) -> str:
    """Seconds since the newest daily_stats update of any tenant."""
    return f"time() - max({metrics.TENANT_STATS_LAST_UPDATE}{selector(*matchers)})"


_SUCCESS = 'outcome="success"'


# --- webhooks (exporter) --------------------------------------------------------------------------------------------
def webhook_deliveries(matchers: tuple[str, ...]) -> str:
    """Webhook deliveries finished in the exporter's recent window, all outcomes."""
    return f"sum(max by (outcome) ({metrics.WEBHOOK_DELIVERIES_RECENT}{selector(*matchers)}))"


def webhook_success_ratio(matchers: tuple[str, ...]) -> str:
    """Share of recent webhook deliveries that succeeded; 0 when only failures are reported."""
    success = f"max({metrics.WEBHOOK_DELIVERIES_RECENT}{selector(*matchers, _SUCCESS)})"
    return f"({success} or vector(0)) / {webhook_deliveries(matchers)}"
