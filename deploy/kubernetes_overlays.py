"""Kustomize overlays over ``deploy/kubernetes/base`` (docs/deploy.md): ``small`` for a single node and
``production`` for a multi-node cluster.

Each overlay is plain kustomize: ``resources: [../../base]`` plus JSON 6902 patches (one file per target object)
that replace replica counts, HPA bounds and resources. A patch is only written where the overlay differs from the
base, and the generator refuses a patch whose path does not exist in the base object, so a patch cannot silently
add a field the base dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from deploy import kubernetes as k8s
from deploy.render import yaml_text

MIGRATE: Final = "migrate"  # key of the migration Job in Overlay.resources


@dataclass(frozen=True)
class Overlay:
    name: str
    summary: tuple[str, ...]
    resources: dict[str, k8s.Resources] = field(default_factory=dict)  # process name or MIGRATE → resources
    replicas: dict[str, int] = field(default_factory=dict)  # fixed-size workloads
    autoscale: dict[str, tuple[int, int]] = field(default_factory=dict)  # HPA (min, max)


_SMALL_SERVICE = k8s.Resources("50m", "128Mi", "500m", "384Mi")
_PRODUCTION_SERVICE = k8s.Resources("500m", "512Mi", "2", "1Gi")

SMALL: Final = Overlay(
    "small",
    (
        "One node: one replica of each process (the HPAs may add a second API or worker pod under load) and",
        "small resource requests, so the whole product fits next to MySQL and Redis on a 2-CPU / 4 GiB machine.",
    ),
    resources={
        "api": _SMALL_SERVICE,
        "worker": _SMALL_SERVICE,
        "smtp": _SMALL_SERVICE,
        "exporter": k8s.Resources("25m", "96Mi", "250m", "192Mi"),
        MIGRATE: k8s.Resources("50m", "128Mi", "500m", "384Mi"),
    },
    replicas={"smtp": 1, "exporter": 1},
    autoscale={"api": (1, 2), "worker": (1, 2)},
)
PRODUCTION: Final = Overlay(
    "production",
    (
        "Several nodes: API 3-20 and worker 3-30 pods (CPU-based HPAs), 2 SMTP pods (each needs an egress",
        "address with matching PTR), larger resources.",
    ),
    resources={"api": _PRODUCTION_SERVICE, "worker": _PRODUCTION_SERVICE, "smtp": _PRODUCTION_SERVICE},
    replicas={"smtp": 2, "exporter": 1},
    autoscale={"api": (3, 20), "worker": (3, 30)},
)
OVERLAYS: Final = (SMALL, PRODUCTION)


def _get(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _replace(document: dict[str, Any], path: str, value: Any) -> list[dict[str, Any]]:
    """A ``replace`` op when ``value`` differs from the base; KeyError when the path is not in the base."""
    if _get(document, path) == value:
        return []
    return [{"op": "replace", "path": path, "value": value}]


RESOURCES_PATH: Final = "/spec/template/spec/containers/0/resources"


def _base_objects() -> list[dict[str, Any]]:
    objects = [k8s.migrate_job()]
    for w in k8s.WORKLOADS:
        objects.append(k8s.deployment(w))
        if w.autoscale is not None:
            objects.append(k8s.autoscaler(w))
    return objects


def _ops(overlay: Overlay, obj: dict[str, Any]) -> list[dict[str, Any]]:
    component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
    ops: list[dict[str, Any]] = []
    if obj["kind"] in ("Deployment", "Job") and component in overlay.resources:
        ops += _replace(obj, RESOURCES_PATH, overlay.resources[component].spec())
    if obj["kind"] == "Deployment" and component in overlay.replicas:
        ops += _replace(obj, "/spec/replicas", overlay.replicas[component])
    if obj["kind"] == "HorizontalPodAutoscaler" and component in overlay.autoscale:
        low, high = overlay.autoscale[component]
        ops += _replace(obj, "/spec/minReplicas", low) + _replace(obj, "/spec/maxReplicas", high)
    return ops


def patches(overlay: Overlay) -> list[tuple[dict[str, str], str, list[dict[str, Any]]]]:
    """(kustomize target, patch file name, JSON 6902 operations) for every base object the overlay changes."""
    result = []
    for obj in _base_objects():
        ops = _ops(overlay, obj)
        if not ops:
            continue
        group, _, version = obj["apiVersion"].rpartition("/")
        name = obj["metadata"]["name"]
        target = {"group": group, "version": version, "kind": obj["kind"], "name": name}
        if not group:
            del target["group"]
        result.append((target, f"patches/{obj['kind'].lower()}-{name}.yaml", ops))
    return result


def overlay_files(overlay: Overlay) -> dict[str, str]:
    """Path under ``deploy/kubernetes/overlays/<name>/`` → content."""
    found = patches(overlay)
    kustomization = {
        "apiVersion": k8s.KUSTOMIZE_API,
        "kind": "Kustomization",
        "resources": ["../../base"],
        "patches": [{"path": path, "target": target} for target, path, _ in found],
    }
    files = {"kustomization.yaml": yaml_text(kustomization, notes=overlay.summary)}
    for _, path, ops in found:
        files[path] = yaml_text(ops)
    return files
