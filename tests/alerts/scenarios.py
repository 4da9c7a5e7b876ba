"""Input series for the promtool unit tests, one :class:`Scenario` per alert, built from ``alerts.config`` thresholds.

Every series holds its level from t=0 (counters grow at a constant rate, gauges stay put), so an alert's condition is
true from the first evaluation that has enough samples. A scenario lists the firing cases (input plus the exact
alerts expected once ``for`` has passed) and the silent cases (just below the threshold). Every latency and ratio
alert is also tested at its minimum-volume guard: just below it stays silent, at (``>=``) or just above it fires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alerts.config import CONFIG, Config, duration_seconds
from alerts.rules import service_alert_names
from dashboards.queries import MAIL_SEND_ROUTE
from scaisend import metrics, processes
from scaisend.queues import EMAIL_PROCESS, SMTP_DELIVER, WEBHOOK_DELIVER

SAMPLES = 120  # one sample a minute for two hours: longer than any for + window used below
Series = dict[str, str]
INSTANCES = {p.name: f"{p.name}-1:{p.port}" for p in processes.PROCESSES}


def num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.9f}".rstrip("0").rstrip(".")


def _labels(process: processes.Process, extra: dict[str, str]) -> str:
    labels = {"job": process.job, "instance": INSTANCES[process.name], **extra}
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def ramp(name: str, process: processes.Process, start: float, per_minute: float, **labels: str) -> Series:
    return {"series": f"{name}{{{_labels(process, labels)}}}", "values": f"{num(start)}+{num(per_minute)}x{SAMPLES}"}


def gauge(name: str, process: processes.Process, value: float, **labels: str) -> Series:
    return ramp(name, process, value, 0, **labels)


def counter(name: str, process: processes.Process, per_minute: float, **labels: str) -> Series:
    return ramp(name, process, 0, per_minute, **labels)


@dataclass(frozen=True)
class Expected:
    """One alert expected to fire: its labels from the expression and the ``$value`` it reports at ``minute``."""

    labels: dict[str, str]
    value: float | Callable[[int], float]

    def value_at(self, minute: int) -> float:
        return self.value(minute) if callable(self.value) else self.value


@dataclass(frozen=True)
class Scenario:
    alert: str
    firing: dict[str, tuple[list[Series], list[Expected]]]
    silent: dict[str, list[Series]]
    settle_minutes: int = 0  # longest range window in the expression: time for rates to reach their level


# --- builders shared by alerts of the same shape --------------------------------------------------------------------
def counter_ratio_scenario(
    alert: str,
    threshold: float,
    min_rate: float,
    window: str,
    inputs: Callable[[float, float], list[Series]],
    labels: dict[str, str] | None = None,
) -> Scenario:
    """failures / attempts > threshold, with attempts per second > min_rate. ``inputs(attempts, failures)`` takes
    per-minute rates and returns the series."""
    busy = 60 * min_rate * 4
    above_guard, below_guard = 60 * min_rate * 1.2, 60 * min_rate * 0.8
    return Scenario(
        alert,
        firing={
            "above": (inputs(busy, busy * threshold * 2), [Expected(labels or {}, threshold * 2)]),
            "just_above_minimum_volume": (
                inputs(above_guard, above_guard * threshold * 2),
                [Expected(labels or {}, threshold * 2)],
            ),
        },
        silent={
            "just_below": inputs(busy, busy * threshold * 0.8),
            "just_below_minimum_volume": inputs(below_guard, below_guard * min(threshold * 5, 1)),
        },
        settle_minutes=duration_seconds(window) // 60,
    )


def tenant_ratio_scenario(alert: str, numerator: str, denominator: str, threshold: float, min_volume: int) -> Scenario:
    def tenants(*rows: tuple[str, float, float]) -> list[Series]:
        return [
            gauge(metrics.tenant_stat_metric(stat), processes.EXPORTER, value, tenant=tenant)
            for tenant, volume, ratio in rows
            for stat, value in ((denominator, volume), (numerator, volume * ratio))
        ]

    busy = min_volume * 10
    return Scenario(
        alert,
        firing={
            "two_tenants": (
                tenants(
                    ("acme", busy, threshold * 2),
                    ("globex", min_volume * 2, threshold * 3),
                    ("initech", busy, threshold * 0.5),
                ),
                [Expected({"tenant": "acme"}, threshold * 2), Expected({"tenant": "globex"}, threshold * 3)],
            ),
            "at_minimum_volume": (
                tenants(("acme", min_volume, threshold * 5)),
                [Expected({"tenant": "acme"}, threshold * 5)],
            ),
        },
        silent={
            "just_below": tenants(("acme", busy, threshold * 0.9)),
            "just_below_minimum_volume": tenants(("acme", min_volume - 1, threshold * 5)),
        },
    )


def service_scenarios(c: Config) -> list[Scenario]:
    scenarios = []
    for service in c.services:
        process = service.process
        down, absent = service_alert_names(process)
        other = processes.API if process != processes.API else processes.WORKER
        scenarios += [
            Scenario(
                down,
                firing={
                    "target_down": (
                        [gauge("up", process, 0)],
                        [Expected({"job": process.job, "instance": INSTANCES[process.name]}, 0)],
                    )
                },
                silent={"target_up": [gauge("up", process, 1)]},
            ),
            Scenario(
                absent,
                firing={"no_target": ([gauge("up", other, 1)], [Expected({"job": process.job}, 1)])},
                silent={"target_present": [gauge("up", process, 0)]},
            ),
        ]
    return scenarios


# --- one scenario per alert -----------------------------------------------------------------------------------------
def api_5xx(c: Config) -> Scenario:
    def inputs(attempts: float, failures: float) -> list[Series]:
        name = metrics.HTTP_REQUESTS_SPEC.name
        route = {"route": MAIL_SEND_ROUTE, "method": "POST"}
        return [
            counter(name, processes.API, attempts - failures, **route, status_class="2xx"),
            counter(name, processes.API, failures, **route, status_class="5xx"),
        ]

    return counter_ratio_scenario(
        "ScaiSendApi5xxRatioHigh",
        c.api_5xx_ratio,
        c.api_min_request_rate,
        c.api_5xx_window,
        inputs,
        {"job": processes.API.job},
    )


def _two_counters(
    process: processes.Process,
    failures: str,
    attempts: str,
    attempt_labels: dict[str, str] | None = None,
    **failure_labels: str,
) -> Callable[[float, float], list[Series]]:
    def inputs(attempt_rate: float, failure_rate: float) -> list[Series]:
        return [
            counter(attempts, process, attempt_rate, **(attempt_labels or {})),
            counter(failures, process, failure_rate, **failure_labels),
        ]

    return inputs


def render_errors(c: Config) -> Scenario:
    inputs = _two_counters(
        processes.WORKER,
        metrics.RENDER_ERRORS_SPEC.name,
        metrics.WORKER_JOBS_SPEC.name,
        {"queue": EMAIL_PROCESS, "outcome": "success"},
    )
    return counter_ratio_scenario(
        "ScaiSendRenderErrorsHigh", c.render_error_ratio, c.render_min_job_rate, c.render_window, inputs
    )


def mx_failures(c: Config) -> Scenario:
    inputs = _two_counters(
        processes.SMTP, metrics.MX_FAILURES_SPEC.name, metrics.MX_LOOKUPS_SPEC.name, reason="nxdomain"
    )
    return counter_ratio_scenario(
        "ScaiSendMxResolutionFailuresHigh", c.mx_failure_ratio, c.mx_min_lookup_rate, c.mx_window, inputs
    )


def tls_failures(c: Config) -> Scenario:
    inputs = _two_counters(processes.SMTP, metrics.TLS_FAILURES_SPEC.name, metrics.TLS_HANDSHAKES_SPEC.name)
    return counter_ratio_scenario(
        "ScaiSendTlsHandshakeFailuresHigh", c.tls_failure_ratio, c.tls_min_handshake_rate, c.tls_window, inputs
    )


def dkim_slow(c: Config) -> Scenario:
    def observations_in(upper: float, per_minute: float = 600) -> list[Series]:
        """Every signature takes between the bucket below ``upper`` and ``upper``."""
        bounds = [*metrics.DKIM_DURATION_BUCKETS, float("inf")]
        name = metrics.DKIM_SIGNING_DURATION_SPEC.name
        return [
            *(
                counter(
                    name + "_bucket",
                    processes.SMTP,
                    per_minute if le >= upper else 0,
                    le="+Inf" if le == float("inf") else num(le),
                )
                for le in bounds
            ),
            counter(name + "_count", processes.SMTP, per_minute),
        ]

    buckets = metrics.DKIM_DURATION_BUCKETS
    at = buckets.index(c.dkim_p99_seconds)  # the threshold is a bucket boundary, as it must be
    lower, upper = buckets[at], buckets[at + 1]
    p99 = Expected({"job": processes.SMTP.job}, lower + (upper - lower) * 0.99)
    guard = 60 * c.dkim_min_signing_rate  # signatures per minute at the minimum-volume guard
    return Scenario(
        "ScaiSendDkimSigningSlow",
        firing={
            "slow": (observations_in(upper), [p99]),
            "slow_just_above_minimum_volume": (observations_in(upper, guard * 1.2), [p99]),
        },
        silent={
            "just_below": observations_in(c.dkim_p99_seconds),
            "slow_just_below_minimum_volume": observations_in(upper, guard * 0.8),
        },
        settle_minutes=duration_seconds(c.dkim_window) // 60,
    )


def queue_high(c: Config) -> Scenario:
    def depths(value: float) -> list[Series]:
        return [
            gauge(metrics.QUEUE_DEPTH, processes.EXPORTER, value, queue=EMAIL_PROCESS),
            gauge(metrics.QUEUE_DEPTH, processes.EXPORTER, 10, queue=SMTP_DELIVER),
        ]

    return Scenario(
        "ScaiSendQueueDepthHigh",
        firing={
            "above": (
                depths(c.queue_depth_ceiling + 1),
                [Expected({"queue": EMAIL_PROCESS}, c.queue_depth_ceiling + 1)],
            )
        },
        silent={"at_ceiling": depths(c.queue_depth_ceiling)},
    )


def forged_reports(c: Config) -> Scenario:
    """Per tenant and summed over report kinds and reasons: 2x the hourly threshold fires for that tenant only."""
    per_minute = c.forged_reports_per_hour / 60
    name = metrics.INBOUND_UNVERIFIED_SPEC.name

    def reports(tenant: str, factor: float) -> list[Series]:
        return [
            counter(name, processes.SMTP, per_minute * factor / 2, report="dsn", reason="unsigned", tenant=tenant),
            counter(name, processes.SMTP, per_minute * factor / 2, report="fbl", reason="bad_signature", tenant=tenant),
        ]

    return Scenario(
        "ScaiSendInboundForgedReports",
        firing={
            "one_tenant_attacked": (
                [*reports("acme", 2), *reports("globex", 0.5)],
                [Expected({"tenant": "acme"}, c.forged_reports_per_hour * 2)],
            )
        },
        silent={"just_below": [*reports("acme", 0.9), *reports("globex", 0.9)]},
        settle_minutes=duration_seconds(c.forged_reports_window) // 60,
    )


def queue_growing(c: Config) -> Scenario:
    start, slope = c.queue_growth_min_depth * 2, 10
    return Scenario(
        "ScaiSendQueueDepthGrowing",
        firing={
            "growing": (
                [
                    ramp(metrics.QUEUE_DEPTH, processes.EXPORTER, start, slope, queue=SMTP_DELIVER),
                    gauge(metrics.QUEUE_DEPTH, processes.EXPORTER, start, queue=WEBHOOK_DELIVER),
                ],
                [Expected({"queue": SMTP_DELIVER}, lambda minute: start + slope * minute)],
            )
        },
        silent={
            "flat_backlog": [gauge(metrics.QUEUE_DEPTH, processes.EXPORTER, start * 2, queue=SMTP_DELIVER)],
            "growing_but_short": [
                ramp(
                    metrics.QUEUE_DEPTH,
                    processes.EXPORTER,
                    0,
                    c.queue_growth_min_depth / (SAMPLES * 2),
                    queue=SMTP_DELIVER,
                )
            ],
        },
    )


def stats_stale(c: Config) -> Scenario:
    def inputs(age: float, sends_per_minute: float) -> list[Series]:
        # The timestamp advances with promtool's clock (which starts at 0), so its age stays constant.
        return [
            ramp(metrics.TENANT_STATS_LAST_UPDATE, processes.EXPORTER, -age, 60, tenant="acme"),
            ramp(
                metrics.HTTP_REQUESTS_SPEC.name,
                processes.API,
                5,
                sends_per_minute,
                route=MAIL_SEND_ROUTE,
                method="POST",
                status_class="2xx",
            ),
        ]

    stale = c.stats_stale_seconds + 600
    return Scenario(
        "ScaiSendDailyStatsStale",
        firing={"stale": (inputs(stale, 10), [Expected({}, stale)])},
        silent={"fresh": inputs(c.stats_stale_seconds - 600, 10), "no_mail_accepted": inputs(stale, 0)},
        settle_minutes=duration_seconds(c.stats_traffic_window) // 60,
    )


def webhook_success(c: Config) -> Scenario:
    def deliveries(success: float, failure: float) -> list[Series]:
        name = metrics.WEBHOOK_DELIVERIES_RECENT
        rows = [gauge(name, processes.EXPORTER, failure, outcome="failure")]
        return rows + ([gauge(name, processes.EXPORTER, success, outcome="success")] if success else [])

    volume = c.webhook_min_deliveries * 10
    low = c.webhook_success_min_ratio - 0.04
    return Scenario(
        "ScaiSendWebhookDeliverySuccessLow",
        firing={
            "low_success": (deliveries(volume * low, volume * (1 - low)), [Expected({}, low)]),
            "only_failures": (deliveries(0, volume), [Expected({}, 0)]),
            "at_minimum_volume": (
                deliveries(c.webhook_min_deliveries * low, c.webhook_min_deliveries * (1 - low)),
                [Expected({}, low)],
            ),
        },
        silent={
            "just_above_target": deliveries(volume * 0.995, volume * 0.005),
            "just_below_minimum_volume": deliveries(c.webhook_min_deliveries // 2, c.webhook_min_deliveries // 2 - 1),
        },
    )


def exporter_failing(c: Config) -> Scenario:
    labels = {"job": processes.EXPORTER.job, "instance": INSTANCES["exporter"]}
    return Scenario(
        "ScaiSendExporterFailing",
        firing={"failing": ([gauge(metrics.EXPORTER_UP, processes.EXPORTER, 0)], [Expected(labels, 0)])},
        silent={"healthy": [gauge(metrics.EXPORTER_UP, processes.EXPORTER, 1)]},
    )


def blocklisted(_c: Config) -> Scenario:
    def listed(value: float) -> list[Series]:
        labels = {"blocklist": "zen.spamhaus.org", "target": "192.0.2.10", "target_kind": "ip"}
        return [gauge(metrics.BLOCKLIST_LISTED_SPEC.name, processes.EXPORTER, value, **labels)]

    expected = Expected({"blocklist": "zen.spamhaus.org", "target": "192.0.2.10", "target_kind": "ip"}, 1)
    return Scenario("ScaiSendBlocklisted", firing={"listed": (listed(1), [expected])}, silent={"clean": listed(0)})


def dns_record(alert: str, check: str) -> Scenario:
    """``scaisend_domain_dns_ok{check=<check>} == 0`` fires per domain; another check failing does not."""

    def ok(**values: float) -> list[Series]:
        return [
            gauge(metrics.DOMAIN_DNS_OK_SPEC.name, processes.EXPORTER, value, domain="mail.acme.example", check=name)
            for name, value in values.items()
        ]

    others = {name: 0.0 for name in metrics.DNS_CHECKS if name != check}
    return Scenario(
        alert,
        firing={"failing": (ok(**{check: 0}), [Expected({"domain": "mail.acme.example"}, 0)])},
        silent={"passing": ok(**{check: 1}), "other_checks_failing": ok(**{check: 1}, **others)},
    )


def checks_failing(alert: str, spec: metrics.MetricSpec, labels: dict[str, str]) -> Scenario:
    """An error flag held for the whole ``for`` fires; one that clears in between does not."""
    name = spec.name
    # set for 31 minutes, clear for one, again and again: never an hour in a row
    flapping: Series = {**gauge(name, processes.EXPORTER, 1, **labels), "values": "1x30 0 1x30 0 1x30 0 1x30"}
    return Scenario(
        alert,
        firing={"failing": ([gauge(name, processes.EXPORTER, 1, **labels)], [Expected(labels, 1)])},
        silent={"passing": [gauge(name, processes.EXPORTER, 0, **labels)], "recovered_in_between": [flapping]},
    )


def reputation_scenarios(_c: Config) -> list[Scenario]:
    return [
        blocklisted(_c),
        dns_record("ScaiSendDkimRecordBroken", "dkim"),
        dns_record("ScaiSendSpfRecordDrift", "spf"),
        dns_record("ScaiSendDmarcRecordDrift", "dmarc"),
        dns_record("ScaiSendDomainMxMissing", "mx"),
        checks_failing(
            "ScaiSendBlocklistChecksFailing",
            metrics.BLOCKLIST_CHECK_ERROR_SPEC,
            {"blocklist": "zen.spamhaus.org", "target": "192.0.2.10"},
        ),
        checks_failing(
            "ScaiSendDnsChecksFailing",
            metrics.DOMAIN_DNS_CHECK_ERROR_SPEC,
            {"domain": "mail.acme.example", "check": "dkim"},
        ),
    ]


def scenarios(config: Config = CONFIG) -> dict[str, Scenario]:
    built = [
        *service_scenarios(config),
        api_5xx(config),
        render_errors(config),
        mx_failures(config),
        tls_failures(config),
        dkim_slow(config),
        forged_reports(config),
        queue_high(config),
        queue_growing(config),
        stats_stale(config),
        webhook_success(config),
        exporter_failing(config),
        *reputation_scenarios(config),
        tenant_ratio_scenario(
            "ScaiSendTenantBounceRateHigh",
            "bounces",
            "requests",
            config.tenant_bounce_rate,
            config.tenant_bounce_min_requests,
        ),
        tenant_ratio_scenario(
            "ScaiSendTenantSpamReportRateHigh",
            "spam_reports",
            "delivered",
            config.tenant_spam_report_rate,
            config.tenant_spam_min_delivered,
        ),
    ]
    return {s.alert: s for s in built}
