"""Prometheus scrape configuration and rule files for every deploy target (docs/observability.md item 9; D17).

Job names, ports and metrics paths come only from :data:`scaisend.processes.PROCESSES`, which the alert rules and
dashboards select on (``job="scaisend-api"`` …), so a scrape config cannot drift from them. Hosts get static targets,
compose resolves its service names through Docker's DNS (every replica of a scaled service is scraped), and
Kubernetes gets prometheus-operator ``ServiceMonitor`` objects plus a ``PrometheusRule`` carrying the same groups as
``alerts/out/rules.yaml``.
"""

from __future__ import annotations

from typing import Any, Final

from alerts.rules import rule_groups
from scaisend.processes import PROCESSES, Process

PROMETHEUS_PORT: Final = 9090
ALERTMANAGER_PORT: Final = 9093
RULES_FILE: Final = "rules.yaml"
SCRAPE_INTERVAL: Final = "15s"
EVALUATION_INTERVAL: Final = "15s"
# The exporter reads MySQL on every scrape (per-tenant daily_stats); twice a minute is plenty for day counters.
SCRAPE_INTERVALS: Final = {"exporter": "30s"}
SCRAPE_TIMEOUT: Final = "10s"


def scrape_interval(process: Process) -> str:
    return SCRAPE_INTERVALS.get(process.name, SCRAPE_INTERVAL)


def _job(process: Process) -> dict[str, Any]:
    job: dict[str, Any] = {"job_name": process.job, "metrics_path": process.metrics_path}
    if process.name in SCRAPE_INTERVALS:
        job["scrape_interval"] = scrape_interval(process)
        job["scrape_timeout"] = SCRAPE_TIMEOUT
    return job


def static_job(process: Process, host: str) -> dict[str, Any]:
    """A scrape job with one static target ``host:<port>``."""
    return {**_job(process), "static_configs": [{"targets": [f"{host}:{process.port}"]}]}


def dns_job(process: Process, name: str) -> dict[str, Any]:
    """A scrape job over every A record of ``name`` (a compose service name: one record per replica)."""
    return {**_job(process), "dns_sd_configs": [{"names": [name], "type": "A", "port": process.port}]}


def prometheus_config(jobs: list[dict[str, Any]], *, alertmanager: str) -> dict[str, Any]:
    """``prometheus.yml``: the given scrape jobs, ``rules.yaml`` beside it, alerts sent to ``alertmanager``."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": EVALUATION_INTERVAL},
        "rule_files": [RULES_FILE],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": jobs,
    }


def host_config() -> dict[str, Any]:
    """Prometheus on the same host as the four systemd services."""
    return prometheus_config(
        [static_job(p, "127.0.0.1") for p in PROCESSES], alertmanager=f"127.0.0.1:{ALERTMANAGER_PORT}"
    )


def compose_config(service_names: dict[str, str], alertmanager_service: str) -> dict[str, Any]:
    """Prometheus inside the compose project; ``service_names`` maps a process name to its compose service."""
    return prometheus_config(
        [dns_job(p, service_names[p.name]) for p in PROCESSES],
        alertmanager=f"{alertmanager_service}:{ALERTMANAGER_PORT}",
    )


def rules() -> dict[str, Any]:
    """The rule groups of :mod:`alerts.rules` (the content of ``rules.yaml`` and of the ``PrometheusRule``)."""
    return rule_groups()


def service_monitor(
    process: Process,
    *,
    name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    port: str,
    job_label: str,
) -> dict[str, Any]:
    """A prometheus-operator ``ServiceMonitor`` for ``process``: the target Service carries ``job_label`` whose
    value is the scrape job name, so the ``job`` label equals :attr:`Process.job` whatever the Service is called."""
    endpoint = {"port": port, "path": process.metrics_path, "interval": scrape_interval(process)}
    if process.name in SCRAPE_INTERVALS:
        endpoint["scrapeTimeout"] = SCRAPE_TIMEOUT
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"jobLabel": job_label, "selector": {"matchLabels": selector}, "endpoints": [endpoint]},
    }


def prometheus_rule(*, name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": rules(),
    }
