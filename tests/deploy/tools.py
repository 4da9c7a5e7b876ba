"""Test-only helpers for the deploy bundle: the external validators, YAML loading, and a tiny kustomize.

``build_kustomization`` understands exactly what our overlays use (``resources`` and JSON 6902 ``replace`` patches
with a kind/name target) and fails on anything else, so the rendered overlays can be validated without kubectl.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaisend.settings import Settings
from tests.harness.database import connect

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.30.0"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
SYSTEMD_SYSUSERS = shutil.which("systemd-sysusers")
KUBECTL = shutil.which("kubectl")

needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed (systemd)")
needs_systemd_sysusers = pytest.mark.skipif(SYSTEMD_SYSUSERS is None, reason="systemd-sysusers not installed")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed (optional cross-check)")


def run(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False)


def run_python_module(module: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", module, *args)


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _matches(document: dict[str, Any], target: dict[str, str]) -> bool:
    group, _, version = document["apiVersion"].rpartition("/")
    return (
        document["kind"] == target["kind"]
        and document["metadata"]["name"] == target["name"]
        and group == target.get("group", "")
        and version == target["version"]
    )


def _replace(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.strip("/").split("/")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        assert last in node, f"replace of a missing path {path}"
        node[last] = value


def build_kustomization(directory: Path) -> list[dict[str, Any]]:
    kustomization = load(directory / "kustomization.yaml")
    assert set(kustomization) <= {"apiVersion", "kind", "resources", "patches"}, "unsupported kustomize feature"
    documents: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        path = directory / resource
        documents += build_kustomization(path) if path.is_dir() else load_all(path)
    for patch in kustomization.get("patches", []):
        found = [d for d in documents if _matches(d, patch["target"])]
        assert len(found) == 1, f"patch target {patch['target']} matches {len(found)} objects"
        for operation in load(directory / patch["path"]):
            assert operation["op"] == "replace", f"unsupported op {operation}"
            _replace(found[0], operation["path"], operation["value"])
    return documents


def key(document: dict[str, Any]) -> tuple[str, str, str]:
    return document["kind"], document["metadata"].get("namespace", ""), document["metadata"]["name"]


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def write_all(path: Path, documents: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


def execute(settings: Settings, *statements: str) -> list[tuple[Any, ...]]:
    """Run SQL on the settings' MariaDB database; the rows of the last statement."""
    rows: list[tuple[Any, ...]] = []
    with connect(settings, to_database=True) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            rows = list(cursor.fetchall())
    return rows
