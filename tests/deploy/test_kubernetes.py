"""Kubernetes base manifests: schema-valid for Kubernetes 1.30 (``kubernetes-validate --strict``), rules and
Alertmanager config accepted by promtool/amtool, hardened pods, the probes of docs/deploy.md and migration ordering
(docs/observability.md item 9; docs/deploy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.rules import rule_groups
from deploy import environment, kubernetes
from scaisend.settings import Settings
from tests.alerts.tools import AMTOOL, PROMTOOL, needs_amtool, needs_promtool
from tests.alerts.tools import run as run_tool
from tests.deploy.tools import DEPLOY, K8S_VERSION, by_kind, load, load_all, run_python_module

BASE = DEPLOY / "kubernetes" / "base"


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    resources = load(BASE / "kustomization.yaml")["resources"]
    return [doc for name in resources for doc in load_all(BASE / name)]


def _pod_specs(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in documents if d["kind"] in ("Deployment", "Job")
    }


class TestSchema:
    def test_every_manifest_validates_strictly(self) -> None:
        files = sorted(BASE.glob("*.yaml"))
        result = run_python_module("kubernetes_validate", "-k", K8S_VERSION, "--strict", *files)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ERROR" not in result.stdout
        # Only the prometheus-operator kinds and the Kustomization itself have no built-in schema.
        for line in result.stdout.splitlines():
            if line.startswith("WARN"):
                assert any(kind in line for kind in ("ServiceMonitor", "PrometheusRule", "Kustomization")), line

    def test_the_validator_catches_a_wrong_type(self, tmp_path: Path) -> None:
        broken = yaml.safe_load((BASE / "exporter.yaml").read_text().split("---")[0])
        broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "9103"
        path = tmp_path / "broken.yaml"
        path.write_text(yaml.safe_dump(broken))
        result = run_python_module("kubernetes_validate", "-k", K8S_VERSION, "--strict", path)
        assert result.returncode == 1
        assert "is not of type 'integer'" in result.stdout

    def test_kustomization_lists_every_file_but_the_secret_template(self) -> None:
        listed = load(BASE / "kustomization.yaml")["resources"]
        on_disk = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
        assert set(listed) == on_disk - {kubernetes.SECRET_TEMPLATE_FILE}


class TestMonitoringObjects:
    @needs_promtool
    def test_prometheus_rule_spec_passes_promtool(self, documents: list[dict[str, Any]], tmp_path: Path) -> None:
        (rule,) = by_kind(documents, "PrometheusRule").values()
        assert rule["spec"] == rule_groups()
        path = tmp_path / "rules.yaml"
        path.write_text(yaml.safe_dump(rule["spec"]))
        result = run_tool(PROMTOOL, "check", "rules", "--lint=all", "--lint-fatal", path)
        assert result.returncode == 0, result.stdout + result.stderr

    @needs_amtool
    def test_alertmanager_secret_passes_amtool(self, documents: list[dict[str, Any]], tmp_path: Path) -> None:
        secret = by_kind(documents, "Secret")[kubernetes.ALERTMANAGER_SECRET]
        path = tmp_path / "alertmanager.yaml"
        path.write_text(secret["stringData"]["alertmanager.yaml"])
        result = run_tool(AMTOOL, "check-config", path)
        assert result.returncode == 0, result.stdout + result.stderr

    def test_six_dashboards_for_the_grafana_sidecar(self, documents: list[dict[str, Any]]) -> None:
        maps = [d for d in by_kind(documents, "ConfigMap").values() if "grafana_dashboard" in d["metadata"]["labels"]]
        assert len(maps) == 6
        for config_map in maps:
            assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
            ((name, text),) = config_map["data"].items()
            assert text == (DEPLOY.parent / "dashboards" / "out" / name).read_text()


class TestPods:
    def test_every_pod_runs_as_10001_read_only_without_capabilities(self, documents: list[dict[str, Any]]) -> None:
        for name, spec in _pod_specs(documents).items():
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["securityContext"]["runAsUser"] == environment.RUN_AS_UID == 10001, name
            for container in spec["containers"] + spec.get("initContainers", []):
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, name
                assert security["allowPrivilegeEscalation"] is False, name
                assert security["capabilities"] == {"drop": ["ALL"]}, name
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert mounts["/tmp"] == "tmp"
                assert {"name": "tmp", "emptyDir": {}} in spec["volumes"]

    def test_every_container_has_requests_and_limits(self, documents: list[dict[str, Any]]) -> None:
        for name, spec in _pod_specs(documents).items():
            for container in spec["containers"] + spec.get("initContainers", []):
                assert set(container["resources"]) == {"requests", "limits"}, name
                assert set(container["resources"]["limits"]) == {"cpu", "memory"}, name

    def test_api_probes_are_the_documented_ones(self, documents: list[dict[str, Any]]) -> None:
        (container,) = _pod_specs(documents)["scaisend-api"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        readiness, liveness = container["readinessProbe"], container["livenessProbe"]
        assert readiness["httpGet"]["path"] == "/ready"
        assert ports[readiness["httpGet"]["port"]] == 8000
        assert readiness["periodSeconds"] == 10
        assert liveness["httpGet"]["path"] == "/health"
        assert ports[liveness["httpGet"]["port"]] == 8000

    @pytest.mark.parametrize(
        ("deployment", "path", "port"),
        [
            ("scaisend-worker", "/metrics", 9101),
            ("scaisend-smtp", "/metrics", 9102),
            ("scaisend-exporter", "/health", 9103),
        ],
    )
    def test_other_processes_are_probed_on_their_metrics_port(
        self, documents: list[dict[str, Any]], deployment: str, path: str, port: int
    ) -> None:
        container = _pod_specs(documents)[deployment]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["path"] == path
            assert ports[container[probe]["httpGet"]["port"]] == port

    def test_inbound_smtp_is_public_25_to_container_2525(self, documents: list[dict[str, Any]]) -> None:
        service = by_kind(documents, "Service")[kubernetes.SMTP_INBOUND_SERVICE]
        assert service["spec"]["type"] == "LoadBalancer"
        (port,) = service["spec"]["ports"]
        container = _pod_specs(documents)["scaisend-smtp"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert port["port"] == 25
        assert ports[port["targetPort"]] == 2525
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        assert config["SMTP_INBOUND_PORT"] == "2525"

    def test_state_folders_are_writable_volumes(self, documents: list[dict[str, Any]]) -> None:
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        for state in environment.STATE_PATHS:
            container = _pod_specs(documents)[f"scaisend-{state.process}"]["containers"][0]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert config[state.setting] == state.path
            assert mounts[state.path] == state.volume


class TestOrdering:
    def test_migration_job_runs_scaisend_migrate(self, documents: list[dict[str, Any]]) -> None:
        job = by_kind(documents, "Job")[kubernetes.MIGRATE_JOB]
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["scaisend", "migrate"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"

    @pytest.mark.parametrize("deployment", ["scaisend-api", "scaisend-worker", "scaisend-smtp"])
    def test_schema_users_wait_for_the_migration(self, documents: list[dict[str, Any]], deployment: str) -> None:
        (init,) = _pod_specs(documents)[deployment]["initContainers"]
        assert init["command"][:3] == ["python", "-m", "deploy.wait_for_schema"]
        assert init["image"] == _pod_specs(documents)[deployment]["containers"][0]["image"]

    def test_commands_are_the_documented_ones(self, documents: list[dict[str, Any]]) -> None:
        commands = {name: spec["containers"][0]["command"] for name, spec in _pod_specs(documents).items()}
        assert commands == {
            "scaisend-migrate": ["scaisend", "migrate"],
            "scaisend-api": ["scaisend", "serve"],
            "scaisend-worker": ["scaisend", "worker"],
            "scaisend-smtp": ["scaisend", "smtp"],
            "scaisend-exporter": ["scaisend", "exporter"],
        }


class TestConfiguration:
    def test_configmap_and_secret_template_make_valid_settings(self, documents: list[dict[str, Any]]) -> None:
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        secret = load_all(BASE / kubernetes.SECRET_TEMPLATE_FILE)[0]["stringData"]
        settings = Settings(_env_file=None, **config, **secret)  # type: ignore[call-arg]
        assert settings.API_HOST == "0.0.0.0"
        assert settings.METRICS_HOST == "0.0.0.0"

    def test_secrets_stay_out_of_the_configmap(self, documents: list[dict[str, Any]]) -> None:
        config = by_kind(documents, "ConfigMap")[kubernetes.CONFIG_MAP]["data"]
        assert not set(config) & set(environment.SECRET_SETTINGS)
        assert kubernetes.SECRET not in by_kind(documents, "Secret"), "the Secret template must not be applied"

    def test_secret_template_holds_placeholders_only(self) -> None:
        (secret,) = load_all(BASE / kubernetes.SECRET_TEMPLATE_FILE)
        assert set(secret["stringData"]) == {*environment.SECRET_SETTINGS, *environment.SHARED_IMAGE_STORE_SECRETS}
        for value in secret["stringData"].values():
            assert environment.PLACEHOLDER in value or "example.internal" in value
        assert "TEMPLATE" in (BASE / kubernetes.SECRET_TEMPLATE_FILE).read_text().splitlines()[1]

    def test_every_workload_reads_the_configmap_and_the_secret(self, documents: list[dict[str, Any]]) -> None:
        for name, spec in _pod_specs(documents).items():
            for container in spec["containers"] + spec.get("initContainers", []):
                assert container["envFrom"] == [
                    {"configMapRef": {"name": kubernetes.CONFIG_MAP}},
                    {"secretRef": {"name": kubernetes.SECRET}},
                ], name

    def test_api_and_worker_scale_with_hpas_and_keep_a_disruption_budget(self, documents: list[dict[str, Any]]) -> None:
        hpas = by_kind(documents, "HorizontalPodAutoscaler")
        assert set(hpas) == {"scaisend-api", "scaisend-worker"}
        deployments = by_kind(documents, "Deployment")
        for name in hpas:
            assert "replicas" not in deployments[name]["spec"], "the HPA owns the replica count"
        assert set(by_kind(documents, "PodDisruptionBudget")) == {"scaisend-api", "scaisend-worker", "scaisend-smtp"}
