"""Every scrape configuration the bundle ships (compose, systemd host, Kubernetes ServiceMonitors with their
Services and Deployments) scrapes exactly the jobs, ports and paths of ``scaisend.processes.PROCESSES``, which is what
the alert rules and dashboards select on (D17; docs/observability.md item 9)."""

from __future__ import annotations

from typing import Any

import pytest

from deploy import environment, kubernetes, prometheus
from scaisend.processes import PROCESSES, Process
from tests.deploy.tools import DEPLOY, build_kustomization, by_kind, load

EXPECTED = {(p.job, p.port, p.metrics_path) for p in PROCESSES}
PROCESS_BY_JOB = {p.job: p for p in PROCESSES}


def _scrape_jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


class TestHost:
    def test_static_targets_are_the_processes_on_loopback(self) -> None:
        jobs = _scrape_jobs(load(DEPLOY / "systemd/prometheus/prometheus.yml"))
        found = set()
        for name, job in jobs.items():
            (static,) = job["static_configs"]
            (target,) = static["targets"]
            host, port = target.rsplit(":", 1)
            assert host == "127.0.0.1"
            found.add((name, int(port), job.get("metrics_path", "/metrics")))
        assert found == EXPECTED

    def test_env_file_binds_the_metrics_where_prometheus_looks(self) -> None:
        lines = (DEPLOY / "systemd/scaisend.env").read_text().splitlines()
        values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
        assert values["METRICS_HOST"] == values["API_HOST"] == "127.0.0.1"
        for process in PROCESSES:
            assert values[environment.PORT_SETTINGS[process.name]] == str(process.port)


class TestCompose:
    def test_dns_targets_are_the_services_running_each_process(self) -> None:
        services = load(DEPLOY / "compose/compose.yaml")["services"]
        jobs = _scrape_jobs(load(DEPLOY / "compose/prometheus/prometheus.yml"))
        found = set()
        for name, job in jobs.items():
            (sd,) = job["dns_sd_configs"]
            (service_name,) = sd["names"]
            process = PROCESS_BY_JOB[name]
            service = services[service_name]
            assert service["command"] == ["scaisend", environment.COMMANDS[process.name]]
            assert service["environment"][environment.PORT_SETTINGS[process.name]] == str(sd["port"])
            assert service["environment"]["METRICS_HOST"] == service["environment"]["API_HOST"] == "0.0.0.0"
            found.add((name, sd["port"], job.get("metrics_path", "/metrics")))
        assert found == EXPECTED

    def test_rules_and_alertmanager_are_wired(self) -> None:
        config = load(DEPLOY / "compose/prometheus/prometheus.yml")
        assert config["rule_files"] == [prometheus.RULES_FILE]
        assert (DEPLOY / "compose/prometheus" / prometheus.RULES_FILE).is_file()
        (alertmanagers,) = config["alerting"]["alertmanagers"]
        assert alertmanagers["static_configs"] == [{"targets": [f"alertmanager:{prometheus.ALERTMANAGER_PORT}"]}]
        assert "alertmanager" in load(DEPLOY / "compose/compose.yaml")["services"]


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return build_kustomization(DEPLOY / "kubernetes" / "base")


class TestKubernetes:
    def _scraped(self, documents: list[dict[str, Any]], monitor: dict[str, Any]) -> tuple[str, int, str]:
        """Follow a ServiceMonitor to its Service and the Deployment behind it; return (job, port, path)."""
        services = [
            s
            for s in by_kind(documents, "Service").values()
            if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]
        assert len(services) == 1, monitor["metadata"]["name"]
        service = services[0]
        job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
        (endpoint,) = monitor["spec"]["endpoints"]
        (port,) = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
        deployments = [
            d
            for d in by_kind(documents, "Deployment").values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(deployments) == 1
        container = deployments[0]["spec"]["template"]["spec"]["containers"][0]
        (container_port,) = [p for p in container["ports"] if p["name"] == port["targetPort"]]
        assert container_port["containerPort"] == port["port"]
        process = PROCESS_BY_JOB[job]
        assert container["command"] == ["scaisend", environment.COMMANDS[process.name]]
        return job, port["port"], endpoint["path"]

    def test_service_monitors_reach_every_process(self, documents: list[dict[str, Any]]) -> None:
        monitors = by_kind(documents, "ServiceMonitor").values()
        assert {self._scraped(documents, monitor) for monitor in monitors} == EXPECTED

    def test_configmap_ports_match(self, documents: list[dict[str, Any]]) -> None:
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        for process in PROCESSES:
            assert config[environment.PORT_SETTINGS[process.name]] == str(process.port)

    def test_inbound_service_is_not_scraped(self, documents: list[dict[str, Any]]) -> None:
        inbound = by_kind(documents, "Service")[kubernetes.SMTP_INBOUND_SERVICE]
        assert kubernetes.JOB_LABEL not in inbound["metadata"]["labels"]


class TestIntervals:
    @pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
    def test_the_exporter_is_scraped_less_often_everywhere(self, process: Process) -> None:
        expected = prometheus.scrape_interval(process)
        host = _scrape_jobs(load(DEPLOY / "systemd/prometheus/prometheus.yml"))[process.job]
        compose_job = _scrape_jobs(load(DEPLOY / "compose/prometheus/prometheus.yml"))[process.job]
        default = prometheus.SCRAPE_INTERVAL
        assert host.get("scrape_interval", default) == compose_job.get("scrape_interval", default) == expected
        monitor = {m["metadata"]["name"]: m for m in kubernetes.service_monitors()}[process.job]
        assert monitor["spec"]["endpoints"][0]["interval"] == expected
