"""Redis persistence, the same in every bundle (issue 14 item 3; docs/deploy.md, "What a Redis failure costs"): the
append-only file, written to disk every second, so a Redis restart loses at most about a second of queue changes.

- compose: the ``redis`` service's command line (:func:`server_args`);
- systemd: ``deploy/systemd/redis/scaisend.conf`` for the distribution's ``redis-server`` (:func:`config_file`);
- Kubernetes: ``deploy/kubernetes/redis/redis.yaml``, a one-replica StatefulSet with the same arguments on a
  persistent volume, for clusters without a managed Redis (:func:`kubernetes_documents`); it is not in the base
  kustomization, since many operators bring their own Redis (then turn AOF on there)."""

from __future__ import annotations

from typing import Any, Final

from deploy.environment import PLACEHOLDER
from deploy.kubernetes import NAMESPACE, labels, selector_labels
from deploy.render import GENERATED, comment, yaml_text

IMAGE: Final = "redis:7-alpine"
PORT: Final = 6379
PERSISTENCE: Final = (("appendonly", "yes"), ("appendfsync", "everysec"))
VOLUME_SIZE: Final = "2Gi"


def server_args() -> list[str]:
    return [arg for name, value in PERSISTENCE for arg in (f"--{name}", value)]


def config_file() -> str:
    return comment(
        GENERATED,
        "Install as /etc/redis/scaisend.conf, add `include /etc/redis/scaisend.conf` at the end of",
        "/etc/redis/redis.conf, then `systemctl restart redis-server` (docs/deploy.md). requirepass must equal the",
        "password in REDIS_URL of /etc/scaisend/scaisend.env (docs/security.md, Stored data and transport).",
    ) + "".join(f"{name} {value}\n" for name, value in (*PERSISTENCE, ("requirepass", PLACEHOLDER)))


def kubernetes_documents() -> list[dict[str, Any]]:
    meta = {"name": "redis", "namespace": NAMESPACE, "labels": labels("redis")}
    probe = {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 10, "timeoutSeconds": 2}
    container = {
        "name": "redis",
        "image": IMAGE,
        # requirepass from the Secret scaisend-redis (key: password); REDIS_URL=redis://:<password>@redis:6379/0
        "args": ["redis-server", *server_args(), "--requirepass", "$(REDIS_PASSWORD)"],
        "env": [
            {"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "scaisend-redis", "key": "password"}}},
            {"name": "REDISCLI_AUTH", "valueFrom": {"secretKeyRef": {"name": "scaisend-redis", "key": "password"}}},
        ],
        "ports": [{"name": "redis", "containerPort": PORT, "protocol": "TCP"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "failureThreshold": 3},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    }
    stateful_set = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta,
        "spec": {
            "serviceName": "redis",
            "replicas": 1,
            "selector": {"matchLabels": selector_labels("redis")},
            "template": {"metadata": {"labels": labels("redis")}, "spec": {"containers": [container]}},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": VOLUME_SIZE}}},
                }
            ],
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "selector": selector_labels("redis"),
            "ports": [{"name": "redis", "port": PORT, "targetPort": "redis", "protocol": "TCP"}],
        },
    }
    return [service, stateful_set]


def kubernetes_file() -> str:
    return yaml_text(
        *kubernetes_documents(),
        notes=(
            "Optional: a one-replica Redis with the append-only file on a persistent volume, for clusters without a",
            "managed Redis. Create the Secret scaisend-redis (key: password), `kubectl apply -f` this next to the base,",
            "then set REDIS_URL=redis://:<password>@redis:6379/0.",
        ),
    )
