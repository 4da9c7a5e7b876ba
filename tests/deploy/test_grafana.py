"""Grafana provisioning: the dashboards' ``datasource`` variable finds the provisioned Prometheus (it picks the
default Prometheus datasource), and the dashboards provisioned are exactly the six of ``dashboards/out``."""

from __future__ import annotations

from typing import Any

from dashboards.generate import all_dashboards
from deploy import grafana
from tests.deploy.tools import DEPLOY, load

PROVISIONED = [
    DEPLOY / "compose/grafana/provisioning/datasources/prometheus.yaml",
    DEPLOY / "systemd/grafana/provisioning/datasources/scaisend.yaml",
]


def _datasource_variable(dashboard: dict[str, Any]) -> dict[str, Any]:
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "datasource"]
    return variable


def test_dashboards_pick_the_default_prometheus_datasource() -> None:
    for uid, dashboard in all_dashboards().items():
        variable = _datasource_variable(dashboard)
        assert variable["type"] == "datasource", uid
        assert variable["query"] == "prometheus", uid
        assert variable["current"]["value"] in (None, grafana.DATASOURCE_UID), uid
        assert '"uid": "${datasource}"' in grafana.dashboard_files()[f"{uid}.json"]


def test_provisioned_datasource_is_the_default_prometheus() -> None:
    for path in PROVISIONED:
        (datasource,) = load(path)["datasources"]
        assert datasource["type"] == "prometheus", path
        assert datasource["isDefault"] is True, path
        assert datasource["uid"] == grafana.DATASOURCE_UID


def test_provider_folders_and_dashboard_files() -> None:
    for path in (
        DEPLOY / "compose/grafana/provisioning/dashboards/scaisend.yaml",
        DEPLOY / "systemd/grafana/provisioning/dashboards/scaisend.yaml",
    ):
        (provider,) = load(path)["providers"]
        assert provider["type"] == "file"
        assert provider["folder"] == grafana.FOLDER
    assert sorted(grafana.dashboard_files()) == sorted(f"{uid}.json" for uid in all_dashboards())
