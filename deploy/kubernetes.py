"""Kubernetes base manifests (docs/architecture.md, docs/deploy.md, D17 ports; docs/observability.md item 9).

One Deployment per process (api, worker, smtp, exporter) from one image, a migration Job, Services, HPAs for the API
and the worker, PodDisruptionBudgets, the non-secret settings as a ConfigMap and a Secret *template*, and the
monitoring objects for prometheus-operator and the Grafana sidecar.

Migration ordering: the ``scaisend-migrate`` Job runs ``scaisend migrate`` once per apply, and every Deployment that
touches the schema has an init container (``python -m deploy.wait_for_schema``) that waits until the database is at
the Alembic head *of its own image*. A rollout of a new version therefore stalls, with the old pods still serving,
until the Job has migrated; old pods that restart meanwhile see a schema newer than theirs and start. One Job rather
than ``scaisend migrate`` in every pod's init container, because Alembic takes no lock and N pods starting together
would race on the same DDL.

Pods run as uid 10001 with a read-only root filesystem (``/tmp`` is an emptyDir), no privilege escalation and every
capability dropped: the inbound SMTP listener binds 2525 and the ``scaisend-smtp-inbound`` Service maps 25 to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from alerts.alertmanager import alertmanager_config
from deploy import environment as env
from deploy import grafana, prometheus
from deploy.render import yaml_body, yaml_text
from scaisend.processes import API, EXPORTER, SMTP, WORKER, Process

NAMESPACE: Final = "scaisend"
APP: Final = "scaisend"
CONFIG_MAP: Final = "scaisend-config"
SECRET: Final = "scaisend-secrets"
MIGRATE_JOB: Final = "scaisend-migrate"
ALERTMANAGER_SECRET: Final = "alertmanager-scaisend"  # what an Alertmanager named "scaisend" reads by default
JOB_LABEL: Final = "scailabs.ai/scrape-job"  # on each metrics Service; its value becomes the ``job`` label
SMTP_INBOUND_SERVICE: Final = "scaisend-smtp-inbound"
SCHEMA_WAIT_SECONDS: Final = 600
KUSTOMIZE_API: Final = "kustomize.config.k8s.io/v1beta1"


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def spec(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class Workload:
    """How one process runs on Kubernetes."""

    process: Process
    port_name: str  # the container and Service port that serves ``process.metrics_path``
    liveness_path: str
    readiness_path: str
    resources: Resources
    replicas: int | None = None  # None: the HorizontalPodAutoscaler owns the count
    autoscale: tuple[int, int] | None = None  # (minReplicas, maxReplicas)
    waits_for_schema: bool = True
    extra_ports: tuple[tuple[str, int], ...] = ()

    @property
    def name(self) -> str:
        return f"{APP}-{self.process.name}"

    @property
    def writable(self) -> tuple[env.StatePath, ...]:
        """Folders besides /tmp this process writes (emptyDir volumes: see docs/deploy.md for persistent ones)."""
        return env.state_paths(self.process.name)

    @property
    def disruption_budget(self) -> bool:
        return self.process is not EXPORTER  # one exporter; evicting it only delays a scrape


SERVICE_RESOURCES: Final = Resources("250m", "256Mi", "1", "512Mi")
SCHEMA_WAIT_RESOURCES: Final = Resources("50m", "96Mi", "500m", "192Mi")
MIGRATE_RESOURCES: Final = Resources("100m", "192Mi", "1", "512Mi")
WORKLOADS: Final = (
    Workload(API, "http", "/health", "/ready", SERVICE_RESOURCES, autoscale=(2, 10)),
    Workload(WORKER, "metrics", WORKER.metrics_path, WORKER.metrics_path, SERVICE_RESOURCES, autoscale=(2, 10)),
    Workload(
        SMTP,
        "metrics",
        SMTP.metrics_path,
        SMTP.metrics_path,
        SERVICE_RESOURCES,
        replicas=1,
        extra_ports=(("smtp", env.CONTAINER_INBOUND_SMTP_PORT),),
    ),
    # The exporter must keep reporting while a migration hangs, so it does not wait for the schema.
    Workload(
        EXPORTER,
        "metrics",
        "/health",
        "/health",
        Resources("50m", "128Mi", "500m", "256Mi"),
        replicas=1,
        waits_for_schema=False,
    ),
)


# --- metadata and pod pieces ------------------------------------------------------------------------------------
def selector_labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "app.kubernetes.io/component": component}


def labels(component: str) -> dict[str, str]:
    return {**selector_labels(component), "app.kubernetes.io/part-of": APP}


def metadata(name: str, component: str, **extra_labels: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": {**labels(component), **extra_labels}}


def pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": env.RUN_AS_UID,
        "runAsGroup": env.RUN_AS_UID,
        "fsGroup": env.RUN_AS_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _container(name: str, command: list[str], resources: Resources, mounts: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "image": env.IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "envFrom": [{"configMapRef": {"name": CONFIG_MAP}}, {"secretRef": {"name": SECRET}}],
        "resources": resources.spec(),
        "securityContext": container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *mounts],
    }


def _pod(component: str, containers: list[dict[str, Any]], volumes: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels(component)},
        "spec": {
            **spec,
            "automountServiceAccountToken": False,
            "securityContext": pod_security(),
            "containers": containers,
            "volumes": [{"name": name, "emptyDir": {}} for name in ("tmp", *volumes)],
        },
    }


def _http_probe(path: str, port: str, *, period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


# --- workloads --------------------------------------------------------------------------------------------------
def deployment(w: Workload) -> dict[str, Any]:
    main = _container(
        w.process.name,
        ["scaisend", env.COMMANDS[w.process.name]],
        w.resources,
        [{"name": state.volume, "mountPath": state.path} for state in w.writable],
    )
    main["ports"] = [
        {"name": name, "containerPort": port, "protocol": "TCP"}
        for name, port in ((w.port_name, w.process.port), *w.extra_ports)
    ]
    main["startupProbe"] = _http_probe(w.liveness_path, w.port_name, period=2, timeout=2, failures=60)
    main["livenessProbe"] = _http_probe(w.liveness_path, w.port_name, period=10, timeout=2, failures=3)
    # docs/deploy.md: readiness GET /ready on 8000 every 10 s; /ready itself gives the database 3 s.
    main["readinessProbe"] = _http_probe(w.readiness_path, w.port_name, period=10, timeout=5, failures=3)
    pod_spec: dict[str, Any] = {}
    if w.waits_for_schema:
        wait = ["python", "-m", "deploy.wait_for_schema", "--timeout", str(SCHEMA_WAIT_SECONDS)]
        pod_spec["initContainers"] = [_container("wait-for-schema", wait, SCHEMA_WAIT_RESOURCES, [])]
    pod_spec["terminationGracePeriodSeconds"] = env.shutdown_grace_seconds()  # SHUTDOWN_GRACE_SECONDS
    if w.process is not EXPORTER:
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector_labels(w.process.name)},
            }
        ]
    spec: dict[str, Any] = {}
    if w.replicas is not None:
        spec["replicas"] = w.replicas
    spec["selector"] = {"matchLabels": selector_labels(w.process.name)}
    if w.process is EXPORTER:
        spec["strategy"] = {"type": "Recreate"}  # never two exporters reporting the same tenants
    spec["template"] = _pod(w.process.name, [main], [state.volume for state in w.writable], **pod_spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(w.name, w.process.name), "spec": spec}


def service(w: Workload) -> dict[str, Any]:
    """The ClusterIP Service in front of the port serving ``/metrics`` (for the API also its HTTP traffic)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(w.name, w.process.name, **{JOB_LABEL: w.process.job}),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(w.process.name),
            "ports": [{"name": w.port_name, "port": w.process.port, "targetPort": w.port_name, "protocol": "TCP"}],
        },
    }


def smtp_inbound_service() -> dict[str, Any]:
    """Public port 25 for DSN bounces and FBL reports (docs/inbound.md, D12, D41), kept apart from the metrics Service."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(SMTP_INBOUND_SERVICE, SMTP.name),
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",  # keep the sending MTA's address in the listener's logs
            "selector": selector_labels(SMTP.name),
            "ports": [{"name": "smtp", "port": env.INBOUND_SMTP_PORT, "targetPort": "smtp", "protocol": "TCP"}],
        },
    }


def autoscaler(w: Workload) -> dict[str, Any]:
    assert w.autoscale is not None
    low, high = w.autoscale
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(w.name, w.process.name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": w.name},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def disruption_budget(w: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(w.name, w.process.name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector_labels(w.process.name)}},
    }


def migrate_job() -> dict[str, Any]:
    container = _container("migrate", ["scaisend", env.MIGRATE_COMMAND], MIGRATE_RESOURCES, [])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(MIGRATE_JOB, "migrate"),
        "spec": {
            "backoffLimit": 4,
            "activeDeadlineSeconds": 1800,
            # Removed 10 minutes after it finished, so the next `kubectl apply -k` (a new image) creates it afresh.
            "ttlSecondsAfterFinished": 600,
            "template": _pod("migrate", [container], [], restartPolicy="Never"),
        },
    }


# --- configuration ----------------------------------------------------------------------------------------------
def namespace() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": labels("namespace")}}


def config_map() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(CONFIG_MAP, "config"),
        "data": dict(sorted((env.service_environment(container=True) | env.SHARED_IMAGE_STORE).items())),
    }


def secret_template() -> dict[str, Any]:
    placeholders = env.secret_placeholders(mysql_host="mysql.example.internal", redis_host="redis.example.internal")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(SECRET, "config"),
        "type": "Opaque",
        "stringData": placeholders | env.SHARED_IMAGE_STORE_SECRETS,
    }


# --- monitoring -------------------------------------------------------------------------------------------------
def service_monitors() -> list[dict[str, Any]]:
    return [
        prometheus.service_monitor(
            w.process,
            name=w.process.job,
            namespace=NAMESPACE,
            labels=labels(w.process.name),
            selector={JOB_LABEL: w.process.job},
            port=w.port_name,
            job_label=JOB_LABEL,
        )
        for w in WORKLOADS
    ]


def prometheus_rule() -> dict[str, Any]:
    return prometheus.prometheus_rule(
        name=APP, namespace=NAMESPACE, labels={**labels("monitoring"), "prometheus": "k8s", "role": "alert-rules"}
    )


def alertmanager_secret() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(ALERTMANAGER_SECRET, "monitoring"),
        "type": "Opaque",
        "stringData": {"alertmanager.yaml": yaml_body(alertmanager_config())},
    }


# --- files ------------------------------------------------------------------------------------------------------
def _workload_documents(w: Workload) -> list[dict[str, Any]]:
    documents = [deployment(w), service(w)]
    if w.process is SMTP:
        documents.append(smtp_inbound_service())
    if w.autoscale is not None:
        documents.append(autoscaler(w))
    if w.disruption_budget:
        documents.append(disruption_budget(w))
    return documents


# --- network policies (issue 9 finding 8; D49) ------------------------------------------------------------------
# Everything in the namespace is denied in and out, then each component gets what it needs. MySQL and Redis live
# outside the bundle (any address, their port only), and so may the S3 image store and the JWKS issuer (HTTPS to any
# address). Plain HTTP (webhooks) and SMTP go to public addresses only: a private, link-local or metadata address
# (169.254.169.254 answers on port 80) stays unreachable even if an application-level guard is bypassed.
MYSQL_PORT: Final = 3306
REDIS_PORT: Final = 6379
PRIVATE_V4: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8")
PRIVATE_V6: Final = ("fc00::/7", "fe80::/10", "::1/128", "64:ff9b::/96")


def _ports(*numbers: int, protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"protocol": protocol, "port": n} for n in numbers]


def _public_internet(*ports: int) -> dict[str, Any]:
    return {
        "to": [
            {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_V4)}},
            {"ipBlock": {"cidr": "::/0", "except": list(PRIVATE_V6)}},
        ],
        "ports": _ports(*ports),
    }


DNS_EGRESS: Final = {"ports": _ports(53, protocol="UDP") + _ports(53)}
HTTPS_EGRESS: Final = {"ports": _ports(443)}
STORE_EGRESS: Final = {"ports": _ports(MYSQL_PORT, REDIS_PORT)}
# Prometheus runs in another namespace (kube-prometheus-stack): metrics ports are open to the cluster, not the world.
IN_CLUSTER: Final[list[dict[str, Any]]] = [{"namespaceSelector": {}}]


def _policy(
    name: str, component: str | None, ingress: list[dict[str, Any]], egress: list[dict[str, Any]]
) -> dict[str, Any]:
    selector = {"matchLabels": selector_labels(component)} if component else {}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, component or "network"),
        "spec": {"podSelector": selector, "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress},
    }


def network_policies() -> list[dict[str, Any]]:
    """Default deny, then: the API takes HTTP from anywhere and calls JWKS/S3 on 443; the worker posts webhooks on
    443 and to public port 80 (and reads S3); the SMTP service takes inbound SMTP and delivers to public port 25; the exporter only
    reads the stores and DNS; every metrics port is reachable from inside the cluster."""
    metrics = {process.name: process.port for process in (WORKER, SMTP, EXPORTER)}
    return [
        _policy("default-deny", None, [], []),
        _policy(
            "scaisend-api",
            API.name,
            [{"ports": _ports(API.port)}],
            [DNS_EGRESS, STORE_EGRESS, HTTPS_EGRESS],
        ),
        _policy(
            "scaisend-worker",
            WORKER.name,
            [{"from": IN_CLUSTER, "ports": _ports(metrics[WORKER.name])}],
            [DNS_EGRESS, STORE_EGRESS, HTTPS_EGRESS, _public_internet(80)],
        ),
        _policy(
            "scaisend-smtp",
            SMTP.name,
            [
                {"ports": _ports(env.CONTAINER_INBOUND_SMTP_PORT)},
                {"from": IN_CLUSTER, "ports": _ports(metrics[SMTP.name])},
            ],
            [DNS_EGRESS, STORE_EGRESS, _public_internet(25)],
        ),
        _policy(
            "scaisend-exporter",
            EXPORTER.name,
            [{"from": IN_CLUSTER, "ports": _ports(metrics[EXPORTER.name])}],
            [DNS_EGRESS, STORE_EGRESS],
        ),
        _policy("scaisend-migrate", "migrate", [], [DNS_EGRESS, {"ports": _ports(MYSQL_PORT)}]),
    ]


SECRET_TEMPLATE_FILE: Final = "secret.template.yaml"


def base_files() -> dict[str, str]:
    """File name under ``deploy/kubernetes/base/`` → content (``kustomization.yaml`` lists all but the template)."""
    files = {
        "namespace.yaml": yaml_text(namespace()),
        "config.yaml": yaml_text(
            config_map(),
            notes=(
                "Non-secret settings (scaisend/settings.py). Override values in your overlay with a configMapGenerator",
                "(behavior: merge); at least PUBLIC_BASE_URL, SMTP_HOSTNAME and BOUNCE_DOMAIN.",
            ),
        ),
        "migrate.yaml": yaml_text(migrate_job()),
        **{f"{w.process.name}.yaml": yaml_text(*_workload_documents(w)) for w in WORKLOADS},
        "monitoring.yaml": yaml_text(*service_monitors(), prometheus_rule()),
        "network-policies.yaml": yaml_text(
            *network_policies(),
            notes=(
                "Default deny, then what each component needs. A relay (SMTP_RELAY_HOST) on another port or MySQL/Redis",
                "on other ports need an extra NetworkPolicy in your overlay (docs/deploy.md).",
            ),
        ),
        "alertmanager.yaml": yaml_text(
            alertmanager_secret(),
            notes=(
                "The receivers' URLs are placeholders: replace the Secret from your own overlay with a secretGenerator",
                "(behavior: replace) holding your alertmanager.yaml (docs/deploy.md, 'Paging').",
            ),
        ),
        "dashboards.yaml": yaml_text(*grafana.dashboard_config_maps(namespace=NAMESPACE, labels=labels("monitoring"))),
    }
    kustomization = {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "resources": list(files)}
    files[SECRET_TEMPLATE_FILE] = yaml_text(
        secret_template(),
        notes=(
            "TEMPLATE - not part of the kustomization and never applied as is. Copy it outside the repository,",
            "replace every CHANGE-ME (DATABASE_URL, REDIS_URL, SECRET_KEY) and apply it once, or create the Secret with",
            "`kubectl -n scaisend create secret generic scaisend-secrets --from-literal=...` (docs/deploy.md).",
        ),
    )
    files["kustomization.yaml"] = yaml_text(kustomization)
    return files
