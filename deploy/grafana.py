"""Grafana provisioning for the six dashboards of the operations guide (docs/observability.md, docs/runbooks.md).

The dashboards' ``datasource`` variable (``dashboards/common.py``) is a Prometheus datasource picker without a
fixed uid, so Grafana starts it on the *default* Prometheus datasource: the provisioned one is marked default and
gets the stable uid ``prometheus``. Dashboards are file-provisioned (compose, host) or, on Kubernetes, ConfigMaps
labelled ``grafana_dashboard: "1"`` for the Grafana sidecar (kube-prometheus-stack's default label).
"""

from __future__ import annotations

from typing import Any, Final

from dashboards.generate import render as render_dashboards

DATASOURCE_NAME: Final = "Prometheus"
DATASOURCE_UID: Final = "prometheus"
LOKI_NAME: Final = "Loki"
LOKI_UID: Final = "loki"
SIDECAR_DATASOURCE_LABEL: Final = "grafana_datasource"  # kube-prometheus-stack's Grafana sidecar label
FOLDER: Final = "ScaiSend"
SIDECAR_LABEL: Final = "grafana_dashboard"
SIDECAR_FOLDER_ANNOTATION: Final = "grafana_folder"


def datasources(prometheus_url: str) -> dict[str, Any]:
    """``provisioning/datasources/*.yaml``: the Prometheus the dashboards read."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": DATASOURCE_NAME,
                "uid": DATASOURCE_UID,
                "type": "prometheus",
                "access": "proxy",
                "url": prometheus_url,
                "isDefault": True,
                "editable": False,
            }
        ],
    }


def loki_datasource(loki_url: str) -> dict[str, Any]:
    """``provisioning/datasources/loki.yaml``: the Loki the bundle's Alloy ships the JSON lines to (D59); the
    request logs panels pick it through their ``logs`` variable (the only Loki datasource, so Grafana's first)."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": LOKI_NAME,
                "uid": LOKI_UID,
                "type": "loki",
                "access": "proxy",
                "url": loki_url,
                "isDefault": False,
                "editable": False,
                "jsonData": {"maxLines": 1000},
            }
        ],
    }


def dashboard_provider(path: str) -> dict[str, Any]:
    """``provisioning/dashboards/*.yaml``: load every JSON file under ``path`` into the ScaiSend folder."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "scaisend",
                "folder": FOLDER,
                "type": "file",
                "disableDeletion": True,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": path, "foldersFromFilesStructure": False},
            }
        ],
    }


def dashboard_files() -> dict[str, str]:
    """``<uid>.json`` → the dashboard JSON, byte for byte what ``dashboards/out`` holds."""
    return render_dashboards()


def dashboard_config_maps(*, namespace: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """One ConfigMap per dashboard for the Grafana sidecar (named after the dashboard uid)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": f"{file_name.removesuffix('.json')}-dashboard",
                "namespace": namespace,
                "labels": {**labels, SIDECAR_LABEL: "1"},
                "annotations": {SIDECAR_FOLDER_ANNOTATION: FOLDER},
            },
            "data": {file_name: text},
        }
        for file_name, text in dashboard_files().items()
    ]
