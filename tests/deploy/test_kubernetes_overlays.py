"""Kustomize overlays ``small`` and ``production``: rendered (by a tiny kustomize of our own, and by kubectl when it
is installed) they validate strictly and carry the sizes the deploy guide promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import kubernetes_overlays
from tests.deploy.tools import (
    DEPLOY,
    K8S_VERSION,
    KUBECTL,
    build_kustomization,
    by_kind,
    key,
    load,
    needs_kubectl,
    run,
    run_python_module,
    write_all,
)

OVERLAYS = DEPLOY / "kubernetes" / "overlays"
NAMES = [overlay.name for overlay in kubernetes_overlays.OVERLAYS]


@pytest.fixture(scope="module", params=NAMES)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, build_kustomization(OVERLAYS / request.param)


def _replicas(documents: list[dict[str, Any]]) -> dict[str, int | tuple[int, int]]:
    """Deployment → fixed replica count, or the (min, max) of its HPA."""
    hpas = by_kind(documents, "HorizontalPodAutoscaler")
    result: dict[str, int | tuple[int, int]] = {}
    for name, deployment in by_kind(documents, "Deployment").items():
        if name in hpas:
            result[name] = (hpas[name]["spec"]["minReplicas"], hpas[name]["spec"]["maxReplicas"])
        else:
            result[name] = deployment["spec"]["replicas"]
    return result


def _memory_request(documents: list[dict[str, Any]], name: str) -> str:
    deployment = by_kind(documents, "Deployment")[name]
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"])


class TestRendered:
    def test_rendered_overlay_validates_strictly(
        self, rendered: tuple[str, list[dict[str, Any]]], tmp_path: Path
    ) -> None:
        name, documents = rendered
        path = write_all(tmp_path / f"{name}.yaml", documents)
        result = run_python_module("kubernetes_validate", "-k", K8S_VERSION, "--strict", path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ERROR" not in result.stdout

    def test_patches_only_replace_what_the_base_has(self) -> None:
        for overlay in kubernetes_overlays.OVERLAYS:
            for _target, _path, ops in kubernetes_overlays.patches(overlay):
                assert ops
                assert all(op["op"] == "replace" for op in ops)

    def test_patch_files_are_json6902_lists_of_replace_ops(self) -> None:
        for name in NAMES:
            for patch in load(OVERLAYS / name / "kustomization.yaml")["patches"]:
                ops = load(OVERLAYS / name / patch["path"])
                assert isinstance(ops, list)
                assert {op["op"] for op in ops} == {"replace"}


class TestSizes:
    def test_small_runs_one_replica_of_each(self) -> None:
        documents = build_kustomization(OVERLAYS / "small")
        assert _replicas(documents) == {
            "scaisend-api": (1, 2),
            "scaisend-worker": (1, 2),
            "scaisend-smtp": 1,
            "scaisend-exporter": 1,
        }
        assert _memory_request(documents, "scaisend-api") == "128Mi"

    def test_production_sizes(self) -> None:
        documents = build_kustomization(OVERLAYS / "production")
        assert _replicas(documents) == {
            "scaisend-api": (3, 20),
            "scaisend-worker": (3, 30),
            "scaisend-smtp": 2,
            "scaisend-exporter": 1,
        }
        assert _memory_request(documents, "scaisend-worker") == "512Mi"

    def test_overlays_change_nothing_but_sizes(self) -> None:
        base = {key(d): d for d in build_kustomization(DEPLOY / "kubernetes" / "base")}
        for name in NAMES:
            overlay = {key(d): d for d in build_kustomization(OVERLAYS / name)}
            assert overlay.keys() == base.keys()
            changed = {k for k in base if base[k] != overlay[k]}
            assert {kind for kind, _, _ in changed} <= {"Deployment", "HorizontalPodAutoscaler", "Job"}


@needs_kubectl
class TestKubectlKustomize:
    @pytest.mark.parametrize("name", NAMES)
    def test_kubectl_renders_the_same_objects(self, name: str) -> None:
        result = run(str(KUBECTL), "kustomize", OVERLAYS / name)
        assert result.returncode == 0, result.stderr
        theirs = {key(d): d for d in yaml.safe_load_all(result.stdout) if d}
        ours = {key(d): d for d in build_kustomization(OVERLAYS / name)}
        assert theirs == ours
