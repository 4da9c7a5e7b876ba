"""docker compose on one host (docs/deploy.md "single host for everything"; D17 ports; D18 MySQL 8).

MySQL 8, Redis 7, a one-shot ``migrate`` that the four services wait for (``service_completed_successfully``),
Prometheus with the generated scrape config and rules, Alertmanager, Loki with Grafana Alloy shipping the services'
JSON lines to it (:mod:`deploy.log_shipping`), and a Grafana provisioned with both data sources. The services read the
operator's ``.env`` (a copy of ``.env.example``) and get the container-specific values (ports from
:data:`scaisend.processes.PROCESSES`, bind addresses, the MySQL and Redis service URLs) on top. Output lives in
``deploy/compose/``; run it from there.
"""

from __future__ import annotations

from typing import Any, Final

from alerts.alertmanager import alertmanager_config
from deploy import environment as env
from deploy import grafana, log_shipping, prometheus, redis
from deploy.render import yaml_text
from scaisend.processes import API, EXPORTER, PROCESSES, SMTP, Process

MYSQL_IMAGE: Final = "mysql:8.0"
REDIS_IMAGE: Final = redis.IMAGE
PROMETHEUS_IMAGE: Final = "prom/prometheus:v2.53.2"
ALERTMANAGER_IMAGE: Final = "prom/alertmanager:v0.27.0"
GRAFANA_IMAGE: Final = "grafana/grafana-oss:11.2.0"
SCAISEND_IMAGE: Final = f"${{SCAISEND_IMAGE:-{env.IMAGE}}}"
ENV_FILE: Final = ".env"
GRAFANA_PORT: Final = 3000
GRAFANA_DASHBOARDS: Final = "/var/lib/grafana-dashboards/scaisend"

# Compose service name of each process (Prometheus resolves these through Docker's DNS).
SERVICE_NAMES: Final = {process.name: process.name for process in PROCESSES}
# Variables the operator adds to .env next to the copied .env.example (compose fails fast when one is missing).
REQUIRED_VARIABLES: Final = ("MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
ALERTMANAGER_DIR_VARIABLE: Final = "SCAISEND_ALERTMANAGER_DIR"


def _required(name: str) -> str:
    return f"${{{name}:?set {name} in .env (docs/deploy.md)}}"


def _healthcheck(test: list[str], *, start_period: str = "30s") -> dict[str, Any]:
    return {"test": test, "interval": "10s", "timeout": "5s", "retries": 5, "start_period": start_period}


def http_check(port: int, path: str) -> list[str]:
    """A healthcheck with the image's own Python (python:3.11-slim has neither curl nor wget)."""
    code = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=4)"
    return ["CMD", "python", "-c", code]


def _wget_check(port: int, path: str) -> list[str]:
    return ["CMD", "wget", "-q", "--spider", f"http://127.0.0.1:{port}{path}"]


def scaisend_environment() -> dict[str, str]:
    """What compose sets on top of ``.env``: the runtime overrides plus the URLs of the bundled MySQL and Redis."""
    return {
        "DATABASE_URL": f"mysql+aiomysql://scaisend:{_required('MYSQL_PASSWORD')}@mysql:3306/scaisend",
        "REDIS_URL": f"redis://:{_required('REDIS_PASSWORD')}@redis:6379/0",
        **env.runtime_overrides(container=True),
    }


def _scaisend(command: str, depends_on: dict[str, str]) -> dict[str, Any]:
    return {
        "image": SCAISEND_IMAGE,
        "command": ["scaisend", command],
        "env_file": [ENV_FILE],
        "environment": scaisend_environment(),
        "depends_on": {name: {"condition": condition} for name, condition in depends_on.items()},
        "user": f"{env.RUN_AS_UID}:{env.RUN_AS_UID}",
        "read_only": True,
        "tmpfs": ["/tmp"],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
    }


def health_path(process: Process) -> str:
    """What each service's healthcheck asks: readiness for the API, ``/health`` for the exporter, else metrics."""
    return {API.name: "/ready", EXPORTER.name: "/health"}.get(process.name, process.metrics_path)


def service(process: Process) -> dict[str, Any]:
    spec = _scaisend(
        env.COMMANDS[process.name], {"migrate": "service_completed_successfully", "redis": "service_healthy"}
    )
    if process is API:
        spec["ports"] = [f"127.0.0.1:{API.port}:{API.port}"]  # the reverse proxy on this host terminates TLS
    if process is SMTP:
        spec["ports"] = [f"{env.INBOUND_SMTP_PORT}:{env.CONTAINER_INBOUND_SMTP_PORT}"]
    spec["stop_grace_period"] = f"{env.shutdown_grace_seconds()}s"  # SHUTDOWN_GRACE_SECONDS
    if env.state_paths(process.name):
        spec["volumes"] = [f"{state.volume}:{state.path}" for state in env.state_paths(process.name)]
    spec["healthcheck"] = _healthcheck(http_check(process.port, health_path(process)))
    spec["restart"] = "unless-stopped"
    return spec


def _infrastructure() -> dict[str, dict[str, Any]]:
    return {
        "mysql": {
            "image": MYSQL_IMAGE,
            "command": ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"],
            "environment": {
                "MYSQL_DATABASE": "scaisend",
                "MYSQL_USER": "scaisend",
                "MYSQL_PASSWORD": _required("MYSQL_PASSWORD"),
                "MYSQL_ROOT_PASSWORD": _required("MYSQL_ROOT_PASSWORD"),
            },
            "volumes": ["mysql-data:/var/lib/mysql"],
            "healthcheck": _healthcheck(
                ["CMD-SHELL", 'mysqladmin ping -h 127.0.0.1 -uroot -p"$$MYSQL_ROOT_PASSWORD" --silent'],
                start_period="60s",
            ),
            "restart": "unless-stopped",
        },
        "redis": {
            "image": REDIS_IMAGE,
            # the append-only file, fsync every second (issue 14); requirepass (issue 9 finding 8): the queues and
            # rate-limit counters are not open to every container
            "command": ["redis-server", *redis.server_args(), "--requirepass", _required("REDIS_PASSWORD")],
            "environment": {"REDISCLI_AUTH": _required("REDIS_PASSWORD")},
            "volumes": ["redis-data:/data"],
            "healthcheck": _healthcheck(["CMD", "redis-cli", "ping"]),
            "restart": "unless-stopped",
        },
        "migrate": {
            **_scaisend(env.MIGRATE_COMMAND, {"mysql": "service_healthy"}),
            "healthcheck": {"disable": True},  # a one-shot: the services wait for it to exit 0
            "restart": "no",
        },
    }


def _logs() -> dict[str, dict[str, Any]]:
    """Loki (single binary, its image's local configuration) and Alloy reading the containers' JSON lines through
    the Docker socket (read-only mount; Alloy needs it to list and follow containers)."""
    loki, alloy = log_shipping.LOKI_PORT, log_shipping.ALLOY_PORT
    return {
        "loki": {
            "image": log_shipping.LOKI_IMAGE,
            "command": ["-config.file=/etc/loki/local-config.yaml"],
            "volumes": ["loki-data:/loki"],
            "ports": [f"127.0.0.1:{loki}:{loki}"],
            "healthcheck": _healthcheck(_wget_check(loki, "/ready")),
            "restart": "unless-stopped",
        },
        "alloy": {
            "image": log_shipping.ALLOY_IMAGE,
            "command": [
                "run",
                f"--server.http.listen-addr=0.0.0.0:{alloy}",
                "--storage.path=/var/lib/alloy/data",
                f"/etc/alloy/{log_shipping.CONFIG_FILE}",
            ],
            "volumes": [
                "./alloy:/etc/alloy:ro",
                "alloy-data:/var/lib/alloy/data",
                "/var/run/docker.sock:/var/run/docker.sock:ro",
            ],
            "depends_on": {"loki": {"condition": "service_healthy"}},
            "healthcheck": _healthcheck(["CMD-SHELL", f"bash -c 'echo > /dev/tcp/127.0.0.1/{alloy}'"]),
            "restart": "unless-stopped",
        },
    }


def _monitoring() -> dict[str, dict[str, Any]]:
    prom, am = prometheus.PROMETHEUS_PORT, prometheus.ALERTMANAGER_PORT
    return {
        "prometheus": {
            "image": PROMETHEUS_IMAGE,
            "command": [
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                "--storage.tsdb.retention.time=30d",
            ],
            "volumes": ["./prometheus:/etc/prometheus:ro", "prometheus-data:/prometheus"],
            "ports": [f"127.0.0.1:{prom}:{prom}"],
            "depends_on": {"alertmanager": {"condition": "service_started"}},
            "healthcheck": _healthcheck(_wget_check(prom, "/-/ready")),
            "restart": "unless-stopped",
        },
        "alertmanager": {
            "image": ALERTMANAGER_IMAGE,
            "command": ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
            # An operator's copy with the real receivers lives outside the checkout (docs/deploy.md, "Paging").
            "volumes": [
                f"${{{ALERTMANAGER_DIR_VARIABLE}:-./alertmanager}}:/etc/alertmanager:ro",
                "alertmanager-data:/alertmanager",
            ],
            "ports": [f"127.0.0.1:{am}:{am}"],
            "healthcheck": _healthcheck(_wget_check(am, "/-/ready")),
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": GRAFANA_IMAGE,
            "environment": {
                "GF_SECURITY_ADMIN_PASSWORD": _required("GRAFANA_ADMIN_PASSWORD"),
                "GF_USERS_ALLOW_SIGN_UP": "false",
            },
            "volumes": [
                "./grafana/provisioning:/etc/grafana/provisioning:ro",
                f"./grafana/dashboards:{GRAFANA_DASHBOARDS}:ro",
                "grafana-data:/var/lib/grafana",
            ],
            "ports": [f"127.0.0.1:{GRAFANA_PORT}:{GRAFANA_PORT}"],
            "depends_on": {"prometheus": {"condition": "service_healthy"}, "loki": {"condition": "service_healthy"}},
            "healthcheck": _healthcheck(_wget_check(GRAFANA_PORT, "/api/health")),
            "restart": "unless-stopped",
        },
    }


VOLUMES: Final = (
    "mysql-data",
    "redis-data",
    *(state.volume for state in env.STATE_PATHS),
    "prometheus-data",
    "alertmanager-data",
    "grafana-data",
    "loki-data",
    "alloy-data",
)


def compose_document() -> dict[str, Any]:
    services = {
        **_infrastructure(),
        **{SERVICE_NAMES[p.name]: service(p) for p in PROCESSES},
        **_monitoring(),
        **_logs(),
    }
    return {"name": "scaisend", "services": services, "volumes": {name: {} for name in VOLUMES}}


def files() -> dict[str, str]:
    """Path under ``deploy/compose/`` → content."""
    prometheus_url = f"http://prometheus:{prometheus.PROMETHEUS_PORT}"
    result = {
        "compose.yaml": yaml_text(
            compose_document(),
            notes=(
                "Run from this directory: cp ../../.env.example .env, edit it (SECRET_KEY, PUBLIC_BASE_URL, ...), add",
                f"{', '.join(REQUIRED_VARIABLES)}, then `docker compose up -d`. See docs/deploy.md.",
            ),
        ),
        "prometheus/prometheus.yml": yaml_text(prometheus.compose_config(SERVICE_NAMES, "alertmanager")),
        f"prometheus/{prometheus.RULES_FILE}": yaml_text(prometheus.rules()),
        "alertmanager/alertmanager.yml": yaml_text(
            alertmanager_config(),
            notes=(
                "The receivers' URLs are placeholders: copy this file outside the checkout, put your pager and ticket",
                f"URLs in, and point {ALERTMANAGER_DIR_VARIABLE} in .env at its folder (docs/deploy.md, 'Paging').",
            ),
        ),
        "grafana/provisioning/datasources/prometheus.yaml": yaml_text(grafana.datasources(prometheus_url)),
        "grafana/provisioning/datasources/loki.yaml": yaml_text(
            grafana.loki_datasource(f"http://loki:{log_shipping.LOKI_PORT}")
        ),
        f"alloy/{log_shipping.CONFIG_FILE}": log_shipping.compose_config(log_shipping.loki_push_url("loki")),
        "grafana/provisioning/dashboards/scaisend.yaml": yaml_text(grafana.dashboard_provider(GRAFANA_DASHBOARDS)),
    }
    result.update({f"grafana/dashboards/{name}": text for name, text in grafana.dashboard_files().items()})
    return result
