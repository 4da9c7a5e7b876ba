"""docker compose bundle: valid against the compose specification, services ordered behind MySQL health and the
one-shot migration, a healthcheck on every long-running service, and a Prometheus/Alertmanager/Grafana that load
(docs/deploy.md; docs/observability.md item 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy import compose, environment
from scaisend.processes import PROCESSES
from tests.alerts.tools import AMTOOL, PROMTOOL, needs_amtool, needs_promtool
from tests.alerts.tools import run as run_tool
from tests.deploy.tools import DEPLOY, load, run_python_module

COMPOSE = DEPLOY / "compose"
SCAISEND_SERVICES = [process.name for process in PROCESSES]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(load(COMPOSE / "compose.yaml"))


class TestSchema:
    def test_compose_yaml_matches_the_compose_spec(self) -> None:
        result = run_python_module(
            "check_jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE / "compose.yaml"
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_the_schema_check_catches_a_bad_key(self, tmp_path: Path, document: dict[str, Any]) -> None:
        import yaml

        document = {
            **document,
            "services": {**document["services"], "api": {**document["services"]["api"], "restart_policy": "always"}},
        }
        path = tmp_path / "compose.yaml"
        path.write_text(yaml.safe_dump(document))
        result = run_python_module("check_jsonschema", "--builtin-schema", "vendor.compose-spec", path)
        assert result.returncode == 1


class TestServices:
    def test_images(self, document: dict[str, Any]) -> None:
        services = document["services"]
        assert services["mysql"]["image"] == "mysql:8.0"
        assert services["redis"]["image"] == "redis:7-alpine"
        assert services["grafana"]["image"].startswith("grafana/grafana-oss:")
        for name in ["migrate", *SCAISEND_SERVICES]:
            assert services[name]["image"] == f"${{SCAISEND_IMAGE:-{environment.IMAGE}}}"

    def test_migration_waits_for_mysql_and_services_for_the_migration(self, document: dict[str, Any]) -> None:
        services = document["services"]
        assert services["migrate"]["depends_on"] == {"mysql": {"condition": "service_healthy"}}
        assert services["migrate"]["command"] == ["scaisend", "migrate"]
        for name in SCAISEND_SERVICES:
            assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}

    def test_every_long_running_service_has_a_healthcheck(self, document: dict[str, Any]) -> None:
        for name, service in document["services"].items():
            if name == "migrate":
                assert service["healthcheck"] == {"disable": True}
                continue
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name

    def test_healthchecks_ask_the_documented_endpoints(self, document: dict[str, Any]) -> None:
        expected = {
            "api": "http://127.0.0.1:8000/ready",
            "worker": "http://127.0.0.1:9101/metrics",
            "smtp": "http://127.0.0.1:9102/metrics",
            "exporter": "http://127.0.0.1:9103/health",
        }
        for name, url in expected.items():
            assert f"'{url}'" in document["services"][name]["healthcheck"]["test"][-1]

    def test_named_volumes_are_declared(self, document: dict[str, Any]) -> None:
        used = {
            mount.split(":")[0]
            for service in document["services"].values()
            for mount in service.get("volumes", [])
            if not mount.startswith((".", "$", "/"))  # relative, variable or host-path bind mounts
        }
        assert used == set(document["volumes"])

    def test_services_read_the_operators_env_file_and_harden_themselves(self, document: dict[str, Any]) -> None:
        for name in ["migrate", *SCAISEND_SERVICES]:
            service = document["services"][name]
            assert service["env_file"] == [".env"]
            assert service["user"] == "10001:10001"
            assert service["read_only"] is True
            assert service["cap_drop"] == ["ALL"]
            assert service["environment"]["DATABASE_URL"].endswith("@mysql:3306/scaisend")

    def test_alertmanager_config_folder_can_live_outside_the_checkout(self, document: dict[str, Any]) -> None:
        mounts = document["services"]["alertmanager"]["volumes"]
        assert f"${{{compose.ALERTMANAGER_DIR_VARIABLE}:-./alertmanager}}:/etc/alertmanager:ro" in mounts

    def test_inbound_smtp_is_published_on_25(self, document: dict[str, Any]) -> None:
        assert document["services"]["smtp"]["ports"] == ["25:2525"]
        assert document["services"]["smtp"]["environment"]["SMTP_INBOUND_PORT"] == "2525"

    def test_env_example_exists_where_the_instructions_point(self) -> None:
        assert (COMPOSE / "../../.env.example").resolve().is_file()


class TestMonitoringFiles:
    @needs_promtool
    def test_prometheus_config_and_its_rules_load(self) -> None:
        result = run_tool(PROMTOOL, "check", "config", COMPOSE / "prometheus" / "prometheus.yml")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout + result.stderr

    @needs_amtool
    def test_alertmanager_config_loads(self) -> None:
        result = run_tool(AMTOOL, "check-config", COMPOSE / "alertmanager" / "alertmanager.yml")
        assert result.returncode == 0, result.stdout + result.stderr

    def test_grafana_mounts_match_the_provisioning(self, document: dict[str, Any]) -> None:
        provider = load(COMPOSE / "grafana/provisioning/dashboards/scaisend.yaml")["providers"][0]
        mounts = dict(m.split(":")[:2] for m in document["services"]["grafana"]["volumes"])
        assert mounts["./grafana/dashboards"] == provider["options"]["path"]
        assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
        assert sorted(p.name for p in (COMPOSE / "grafana/dashboards").glob("*.json")) == sorted(
            p.name for p in (DEPLOY.parent / "dashboards/out").glob("*.json")
        )
        datasource = load(COMPOSE / "grafana/provisioning/datasources/prometheus.yaml")["datasources"][0]
        assert datasource["url"] == f"http://prometheus:{compose.prometheus.PROMETHEUS_PORT}"
