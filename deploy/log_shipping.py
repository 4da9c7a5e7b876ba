"""Log shipping (issue 12; D19, D59): Grafana Alloy reads the services' JSON lines and pushes them to Loki with
``service``, ``level`` and ``tenant_id`` (:data:`scaisend.logs.SHIPPED_LABELS`) as labels; ``request_id``,
``message_id`` and ``trace_id`` stay in the line for ``| json`` queries (the dashboards' request logs panels).

Two sources, one processing pipeline:

- docker compose: ``discovery.docker`` + ``loki.source.docker`` on the Docker socket, keeping the containers of the
  ScaiSend services of this compose project;
- Kubernetes: ``discovery.kubernetes`` + ``loki.source.kubernetes`` (logs read through the API server, so one
  Deployment with a namespaced Role is enough, no DaemonSet or host paths), keeping the pods labelled
  ``app.kubernetes.io/name: scaisend``.

The configuration is Alloy's own syntax, written by the small renderer below (blocks, attributes, strings, lists,
maps and references), so its shape can be checked by the tests without an Alloy binary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from deploy import grafana
from deploy import kubernetes as k8s
from deploy.render import GENERATED, yaml_body, yaml_text
from scaisend.logs import SHIPPED_LABELS
from scaisend.processes import PROCESSES

ALLOY_IMAGE: Final = "grafana/alloy:v1.4.2"
LOKI_IMAGE: Final = "grafana/loki:3.1.1"
ALLOY_PORT: Final = 12345
LOKI_PORT: Final = 3100
LOKI_PUSH_PATH: Final = "/loki/api/v1/push"
CONFIG_FILE: Final = "config.alloy"
LOKI_URL_VARIABLE: Final = "LOKI_PUSH_URL"
DOCKER_SOCKET: Final = "unix:///var/run/docker.sock"
SERVICES: Final = tuple(process.name for process in PROCESSES)  # the compose services / components that log JSON


@dataclass(frozen=True)
class Ref:
    """An Alloy expression written as is (a component export such as ``loki.write.default.receiver``)."""

    expression: str


@dataclass(frozen=True)
class Block:
    name: str
    label: str | None = None
    body: Sequence[tuple[str, Any] | Block] = field(default_factory=tuple)


def _value(value: Any, indent: int) -> str:
    pad = "\t" * indent
    if isinstance(value, Ref):
        return value.expression
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item, indent) for item in value) + "]"
    if isinstance(value, dict):
        inner = "".join(f"{pad}\t{key} = {_value(item, indent + 1)},\n" for key, item in value.items())
        return "{\n" + inner + pad + "}"
    raise TypeError(f"no Alloy form for {value!r}")


def render(blocks: Sequence[Block], indent: int = 0) -> str:
    """Alloy configuration text: ``name "label" {`` attributes and nested blocks ``}``."""
    pad = "\t" * indent
    out = []
    for block in blocks:
        label = f" {json.dumps(block.label)}" if block.label is not None else ""
        lines = [f"{pad}{block.name}{label} {{\n"]
        for item in block.body:
            if isinstance(item, Block):
                lines.append(render([item], indent + 1))
            else:
                key, value = item
                lines.append(f"{pad}\t{key} = {_value(value, indent + 1)}\n")
        lines.append(f"{pad}}}\n")
        out.append("".join(lines))
    return "\n".join(out)


def _process() -> Block:
    """JSON lines → labels ``service``, ``level``, ``tenant_id`` and the line's own ``timestamp``; the rest stays."""
    fields = {name: name for name in (*SHIPPED_LABELS, "timestamp")}
    return Block(
        "loki.process",
        "scaisend",
        (
            Block("stage.json", body=(("expressions", fields),)),
            Block("stage.timestamp", body=(("source", "timestamp"), ("format", "RFC3339Nano"))),
            Block("stage.labels", body=(("values", {name: "" for name in SHIPPED_LABELS}),)),
            ("forward_to", [Ref("loki.write.default.receiver")]),
        ),
    )


def _write(url: Any) -> Block:
    return Block("loki.write", "default", (Block("endpoint", body=(("url", url),)),))


def _rule(**attributes: Any) -> Block:
    return Block("rule", body=tuple(attributes.items()))


def compose_config(loki_url: str) -> str:
    """``config.alloy`` for docker compose: the ScaiSend containers of this project, by compose service name."""
    services = "|".join(SERVICES)
    blocks = [
        Block("discovery.docker", "containers", (("host", DOCKER_SOCKET),)),
        Block(
            "discovery.relabel",
            "scaisend",
            (
                ("targets", Ref("discovery.docker.containers.targets")),
                _rule(
                    source_labels=["__meta_docker_container_label_com_docker_compose_service"],
                    regex=f"({services})",
                    action="keep",
                ),
                _rule(
                    source_labels=["__meta_docker_container_label_com_docker_compose_service"],
                    target_label="compose_service",
                ),
            ),
        ),
        Block(
            "loki.source.docker",
            "scaisend",
            (
                ("host", DOCKER_SOCKET),
                ("targets", Ref("discovery.relabel.scaisend.output")),
                ("forward_to", [Ref("loki.process.scaisend.receiver")]),
            ),
        ),
        _process(),
        _write(loki_url),
    ]
    return _header() + render(blocks)


def kubernetes_config(namespace: str, app: str) -> str:
    """``config.alloy`` for Kubernetes: the ScaiSend pods of ``namespace``; Loki's push URL from the environment
    (:data:`LOKI_URL_VARIABLE`, set on the Deployment)."""
    blocks = [
        Block(
            "discovery.kubernetes",
            "pods",
            (("role", "pod"), Block("namespaces", body=(("names", [namespace]),))),
        ),
        Block(
            "discovery.relabel",
            "scaisend",
            (
                ("targets", Ref("discovery.kubernetes.pods.targets")),
                _rule(
                    source_labels=["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                    regex=app,
                    action="keep",
                ),
                _rule(source_labels=["__meta_kubernetes_namespace"], target_label="namespace"),
                _rule(source_labels=["__meta_kubernetes_pod_name"], target_label="pod"),
                _rule(source_labels=["__meta_kubernetes_pod_container_name"], target_label="container"),
            ),
        ),
        Block(
            "loki.source.kubernetes",
            "scaisend",
            (
                ("targets", Ref("discovery.relabel.scaisend.output")),
                ("forward_to", [Ref("loki.process.scaisend.receiver")]),
            ),
        ),
        _process(),
        _write(Ref(f'sys.env("{LOKI_URL_VARIABLE}")')),
    ]
    return _header() + render(blocks)


def _header() -> str:
    labels = ", ".join(SHIPPED_LABELS)
    return f"// {GENERATED}\n// Labels: {labels} (D59); request_id, message_id and trace_id stay in the JSON line.\n\n"


def loki_push_url(host: str) -> str:
    return f"http://{host}:{LOKI_PORT}{LOKI_PUSH_PATH}"


# --- Kubernetes: an add-on next to the base (kubectl apply -k deploy/kubernetes/logging) -------------------------
ALLOY_NAME: Final = "scaisend-alloy"
ALLOY_UID: Final = 473  # the ``alloy`` user of the Alloy image
KUBERNETES_LOKI_URL: Final = "http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push"


def _kubernetes_objects() -> list[dict[str, Any]]:
    meta = k8s.metadata(ALLOY_NAME, "logging")
    selector = k8s.selector_labels("logging")
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": k8s.metadata(f"{ALLOY_NAME}-config", "logging"),
        "data": {CONFIG_FILE: kubernetes_config(k8s.NAMESPACE, k8s.APP)},
    }
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": meta,
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ALLOY_NAME},
        "subjects": [{"kind": "ServiceAccount", "name": ALLOY_NAME, "namespace": k8s.NAMESPACE}],
    }
    container = {
        "name": "alloy",
        "image": ALLOY_IMAGE,
        "args": [
            "run",
            f"--server.http.listen-addr=0.0.0.0:{ALLOY_PORT}",
            "--storage.path=/var/lib/alloy/data",
            # loki.source.kubernetes is below general availability in some Alloy 1.x releases
            "--stability.level=experimental",
            f"/etc/alloy/{CONFIG_FILE}",
        ],
        "env": [{"name": LOKI_URL_VARIABLE, "value": KUBERNETES_LOKI_URL}],
        "ports": [{"name": "http", "containerPort": ALLOY_PORT}],
        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/alloy", "readOnly": True},
            {"name": "data", "mountPath": "/var/lib/alloy/data"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,  # one reader per namespace: a second would ship every line twice
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": k8s.labels("logging")},
                "spec": {
                    "serviceAccountName": ALLOY_NAME,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": ALLOY_UID,
                        "runAsGroup": ALLOY_UID,
                        "fsGroup": ALLOY_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "config", "configMap": {"name": f"{ALLOY_NAME}-config"}},
                        {"name": "data", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }
    return [config, account, role, binding, deployment]


def _grafana_datasource() -> dict[str, Any]:
    loki_url = KUBERNETES_LOKI_URL.removesuffix(LOKI_PUSH_PATH)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            **k8s.metadata("scaisend-loki-datasource", "logging"),
            "labels": {**k8s.labels("logging"), grafana.SIDECAR_DATASOURCE_LABEL: "1"},
        },
        "data": {"scaisend-loki.yaml": yaml_body(grafana.loki_datasource(loki_url))},
    }


def kubernetes_files() -> dict[str, str]:
    """File name under ``deploy/kubernetes/logging/`` → content."""
    files = {
        "alloy.yaml": yaml_text(
            *_kubernetes_objects(),
            notes=(
                f"Ships the scaisend namespace's JSON log lines to Loki. Set {LOKI_URL_VARIABLE} on the Deployment",
                "(an overlay patch) when your Loki is not loki.monitoring:3100. See docs/deploy.md, 'Logs'.",
            ),
        ),
        "grafana-datasource.yaml": yaml_text(
            _grafana_datasource(),
            notes=('For the Grafana sidecar (label grafana_datasource: "1"); point url at your Loki.',),
        ),
    }
    files["kustomization.yaml"] = yaml_text(
        {"apiVersion": k8s.KUSTOMIZE_API, "kind": "Kustomization", "resources": sorted(files)}
    )
    return files
