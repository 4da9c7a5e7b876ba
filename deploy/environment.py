"""Settings as each deploy target hands them to the processes (`scaisend/settings.py`, `.env.example`, docs/deploy.md, D23; D17 ports; D18 database).

Everything is derived from :class:`scaisend.settings.Settings`: a new setting reaches the ConfigMap, the compose
environment and ``scaisend.env`` with its default and description, without touching this module. What the targets
change is listed here once: the ports (from :data:`scaisend.processes.PROCESSES`), bind addresses, paths and the
placeholders an operator must replace. Empty defaults are left out: an empty ``PROMETHEUS_MULTIPROC_DIR`` would still
switch prometheus-client to multiprocess mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scaisend import __version__, processes
from scaisend.settings import Settings

IMAGE_REPOSITORY: Final = "ghcr.io/scailabs/scaisend"
IMAGE: Final = f"{IMAGE_REPOSITORY}:{__version__}"
RUN_AS_UID: Final = 10001  # the image's non-root user (deploy/Dockerfile)

# Process name → the setting holding the port its /metrics is served on (D17), and the subcommand that runs it.
PORT_SETTINGS: Final = {process.name: process.port_setting for process in processes.PROCESSES}
COMMANDS: Final = {process.name: process.command for process in processes.PROCESSES}
MIGRATE_COMMAND: Final = "migrate"
INBOUND_SMTP_PORT: Final = 25  # public port of the DSN/FBL listener (docs/inbound.md, D12, D41)
CONTAINER_INBOUND_SMTP_PORT: Final = 2525  # what the non-root container binds; Services map 25 → 2525
STATE_DIR: Final = "/var/lib/scaisend"


@dataclass(frozen=True)
class StatePath:
    """A folder one process writes, named by a setting whose default is relative to the working directory (dev)."""

    setting: str
    process: str  # Process.name
    volume: str  # Kubernetes/compose volume name; also the folder under STATE_DIR

    @property
    def path(self) -> str:
        return f"{STATE_DIR}/{self.volume}"


STATE_PATHS: Final = (
    StatePath("IMAGE_STORE_PATH", "api", "images"),  # D20 local image store
    StatePath(
        "INBOUND_QUARANTINE_PATH", "smtp", "inbound"
    ),  # docs/inbound.md, D12, D41: inbound mail that matched nothing
)


def state_paths(process: str) -> tuple[StatePath, ...]:
    return tuple(p for p in STATE_PATHS if p.process == process)


# Secrets never go into a ConfigMap or a committed file; these placeholders mark where the real values go.
PLACEHOLDER: Final = "CHANGE-ME"
SECRET_SETTINGS: Final = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
# Values the operator must replace (the instance's names); everything else has a working default.
INSTANCE_SETTINGS: Final = {
    "PUBLIC_BASE_URL": "https://scaisend.example.com",
    "SMTP_HOSTNAME": "mail.example.com",
    "BOUNCE_DOMAIN": "bounces.example.com",
}


# Several API and worker replicas on several nodes must see the same image bytes, so the Kubernetes bundle keeps them
# in an S3-compatible bucket (D20); compose and systemd run on one host and keep the local folder.
SHARED_IMAGE_STORE: Final = {
    "IMAGE_STORE": "s3",
    "IMAGE_S3_BUCKET": "scaisend-images",
    "IMAGE_S3_ENDPOINT_URL": "https://s3.example.internal",
}
SHARED_IMAGE_STORE_SECRETS: Final = {
    "IMAGE_S3_ACCESS_KEY_ID": PLACEHOLDER,
    "IMAGE_S3_SECRET_ACCESS_KEY": PLACEHOLDER,
}


def as_env(value: object) -> str:
    """A setting's value as an environment string (``False`` → ``false``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def description(name: str) -> str:
    return Settings.model_fields[name].description or ""


def defaults() -> dict[str, str]:
    """Every setting with a non-empty default, in declaration order."""
    result = {}
    for name, field in Settings.model_fields.items():
        value = as_env(field.default)
        if value != "":
            result[name] = value
    return result


def shutdown_grace_seconds() -> int:
    """``SHUTDOWN_GRACE_SECONDS``' default: every process's stop timeout in the bundle (Kubernetes
    ``terminationGracePeriodSeconds``, systemd ``TimeoutStopSec``, compose ``stop_grace_period``) equals it, so the
    process's own drain (the grace less 5 s) always ends before the supervisor's SIGKILL."""
    return int(Settings.model_fields["SHUTDOWN_GRACE_SECONDS"].default)


def process_ports() -> dict[str, str]:
    """``API_PORT=8000`` etc.: set explicitly so a changed default cannot split a process from its scrape config."""
    return {PORT_SETTINGS[process.name]: str(process.port) for process in processes.PROCESSES}


def runtime_overrides(*, container: bool) -> dict[str, str]:
    """What a target sets whatever the operator configures: the ports of :data:`scaisend.processes.PROCESSES`, bind
    addresses and the absolute state folders.

    In a container everything binds ``0.0.0.0`` and the inbound listener binds 2525 (no ``NET_BIND_SERVICE``); on a
    host the API and metrics ports stay on loopback (a reverse proxy and Prometheus run there) and the inbound
    listener binds 25 itself.
    """
    env = process_ports()
    env.update({state.setting: state.path for state in STATE_PATHS})
    env["SMTP_INBOUND_HOST"] = "0.0.0.0"
    if container:
        env.update(API_HOST="0.0.0.0", METRICS_HOST="0.0.0.0", SMTP_INBOUND_PORT=str(CONTAINER_INBOUND_SMTP_PORT))
    else:
        env.update(API_HOST="127.0.0.1", METRICS_HOST="127.0.0.1", SMTP_INBOUND_PORT=str(INBOUND_SMTP_PORT))
    return dict(sorted(env.items()))


def service_environment(*, container: bool) -> dict[str, str]:
    """The non-secret settings every process gets (a Kubernetes ConfigMap, the host's ``scaisend.env`` without its
    secrets): defaults, the instance placeholders and the runtime overrides. Sorted by name."""
    env = {name: value for name, value in defaults().items() if name not in SECRET_SETTINGS}
    env.update(INSTANCE_SETTINGS)
    env.update(ENVIRONMENT="production", API_WORKERS="1")  # scale the API with replicas, not uvicorn workers
    env.update(runtime_overrides(container=container))
    return dict(sorted(env.items()))


def secret_placeholders(*, mysql_host: str, redis_host: str) -> dict[str, str]:
    """``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY`` with placeholder values that still pass validation."""
    return {
        "DATABASE_URL": f"mysql+aiomysql://scaisend:{PLACEHOLDER}@{mysql_host}:3306/scaisend",
        "REDIS_URL": f"redis://:{PLACEHOLDER}@{redis_host}:6379/0",  # Redis with requirepass (issue 9 finding 8)
        "SECRET_KEY": f"{PLACEHOLDER}-generate-with-openssl-rand-hex-32",
    }
