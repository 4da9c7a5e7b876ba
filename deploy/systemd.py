"""systemd units for a host install (docs/deploy.md, docs/observability.md, docs/runbooks.md: ``journalctl -u scaisend-api``,
``systemctl status scaisend-worker``; D17 ports).

The package lives in ``/opt/scaisend/venv`` and runs as the system user ``scaisend`` (``sysusers.d/scaisend.conf``),
with settings from ``/etc/scaisend/scaisend.env``. ``scaisend-migrate.service`` is a oneshot the API, worker and SMTP
units require and start after: at boot nothing serves before the schema is current, and ``systemctl restart
scaisend-migrate`` during an upgrade stops those three, migrates, and starts them again. The exporter only wants it,
so it keeps reporting while a migration fails. Every unit is sandboxed; only the SMTP service keeps one capability,
``CAP_NET_BIND_SERVICE``, to listen on port 25.
"""

from __future__ import annotations

from typing import Final

from alerts.alertmanager import alertmanager_config
from deploy import environment as env
from deploy import grafana, prometheus, redis
from deploy.render import GENERATED, comment, yaml_text
from scaisend.processes import API, EXPORTER, PROCESSES, SMTP, Process

VENV: Final = "/opt/scaisend/venv"
EXECUTABLE: Final = f"{VENV}/bin/scaisend"
ENV_FILE: Final = "/etc/scaisend/scaisend.env"
USER: Final = "scaisend"
DOCS: Final = "https://github.com/scailabs/scaisend/blob/main/docs/deploy.md"
MIGRATE_UNIT: Final = "scaisend-migrate.service"
# Units ordered before ours when they run on the same host (harmless when they do not exist).
DEPENDENCIES: Final = "network-online.target mariadb.service mysql.service redis-server.service"
GRAFANA_DASHBOARDS: Final = "/var/lib/grafana/dashboards/scaisend"

Section = list[tuple[str, str]]

HARDENING: Final[Section] = [
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("ProtectHome", "yes"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectKernelLogs", "yes"),
    ("ProtectControlGroups", "yes"),
    ("ProtectClock", "yes"),
    ("ProtectHostname", "yes"),
    ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
    ("RestrictNamespaces", "yes"),
    ("RestrictRealtime", "yes"),
    ("RestrictSUIDSGID", "yes"),
    ("LockPersonality", "yes"),
    ("SystemCallArchitectures", "native"),
    ("UMask", "0027"),
]


def unit_name(process: Process) -> str:
    return f"scaisend-{process.name}.service"


def render_unit(description: list[str], sections: dict[str, Section]) -> str:
    lines = [comment(GENERATED, *description).rstrip("\n")]
    for section, entries in sections.items():
        lines.append(f"\n[{section}]")
        lines.extend(f"{key}={value}" for key, value in entries)
    return "\n".join(lines) + "\n"


def _unit_section(description: str, *, requires_migration: bool) -> Section:
    entries = [("Description", description), ("Documentation", DOCS)]
    if requires_migration:
        entries += [("Wants", "network-online.target"), ("Requires", MIGRATE_UNIT)]
    else:
        entries += [("Wants", f"network-online.target {MIGRATE_UNIT}")]
    return [*entries, ("After", f"{MIGRATE_UNIT} {DEPENDENCIES}")]


def _identity() -> Section:
    return [("User", USER), ("Group", USER), ("EnvironmentFile", ENV_FILE)]


def _capabilities(process: Process | None) -> Section:
    if process is SMTP:  # the inbound DSN/FBL listener binds port 25 (docs/inbound.md, D12, D41)
        return [("CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"), ("AmbientCapabilities", "CAP_NET_BIND_SERVICE")]
    return [("CapabilityBoundingSet", ""), ("AmbientCapabilities", "")]


def service_unit(process: Process) -> str:
    command = env.COMMANDS[process.name]
    service: Section = [
        ("Type", "exec"),
        *_identity(),
        ("ExecStart", f"{EXECUTABLE} {command}"),
        ("Restart", "on-failure"),
        ("RestartSec", "5s"),
    ]
    states = env.state_paths(process.name)
    if states:  # writable under ProtectSystem=strict, owned by the service user (IMAGE_STORE_PATH, ...)
        service.append(("StateDirectory", " ".join(["scaisend", *(f"scaisend/{s.volume}" for s in states)])))
    if process is API:
        # Created empty at every start: the place for PROMETHEUS_MULTIPROC_DIR when API_WORKERS > 1.
        service.append(("RuntimeDirectory", "scaisend-api"))
    service.append(("TimeoutStopSec", f"{env.shutdown_grace_seconds()}s"))  # SHUTDOWN_GRACE_SECONDS
    service += _capabilities(process) + HARDENING
    title = f"ScaiSend {process.title} (scaisend {command}, metrics on {process.port})"
    return render_unit(
        [f"{unit_name(process)}: `journalctl -u {unit_name(process).removesuffix('.service')}` shows its log."],
        {
            "Unit": _unit_section(title, requires_migration=process is not EXPORTER),
            "Service": service,
            "Install": [("WantedBy", "multi-user.target")],
        },
    )


def migrate_unit() -> str:
    service: Section = [
        ("Type", "oneshot"),
        ("RemainAfterExit", "yes"),
        *_identity(),
        ("ExecStart", f"{EXECUTABLE} {env.MIGRATE_COMMAND}"),
        *_capabilities(None),
        *HARDENING,
    ]
    unit: Section = [
        ("Description", "ScaiSend database migrations (scaisend migrate)"),
        ("Documentation", DOCS),
        ("Wants", "network-online.target"),
        ("After", DEPENDENCIES),
    ]
    return render_unit(
        ["Runs `scaisend migrate` before the services; `systemctl restart scaisend-migrate` after an upgrade."],
        {"Unit": unit, "Service": service, "Install": [("WantedBy", "multi-user.target")]},
    )


def env_file() -> str:
    """``/etc/scaisend/scaisend.env``: every setting with a value, secrets as CHANGE-ME placeholders."""
    values = {
        **env.service_environment(container=False),
        **env.secret_placeholders(mysql_host="127.0.0.1", redis_host="127.0.0.1"),
    }
    lines = [
        comment(
            GENERATED,
            f"Template of {ENV_FILE} (install -m 0640 -o root -g {USER}). Replace every {env.PLACEHOLDER} and the",
            "example.com names. Settings left out keep their defaults; see .env.example for all of them.",
        )
    ]
    for name in sorted(values):
        lines.append(f"# {env.description(name)}\n{name}={values[name]}\n")
    return "\n".join(lines)


def sysusers() -> str:
    return comment(GENERATED, "Install as /etc/sysusers.d/scaisend.conf, then run `systemd-sysusers`.") + (
        f'u {USER} - "ScaiSend mail platform" {env.STATE_DIR} -\n'
    )


def files() -> dict[str, str]:
    """Path under ``deploy/systemd/`` → content."""
    result = {unit_name(process): service_unit(process) for process in PROCESSES}
    result[MIGRATE_UNIT] = migrate_unit()
    result["scaisend.env"] = env_file()
    result["sysusers.d/scaisend.conf"] = sysusers()
    result["redis/scaisend.conf"] = redis.config_file()
    result["prometheus/prometheus.yml"] = yaml_text(prometheus.host_config())
    result[f"prometheus/{prometheus.RULES_FILE}"] = yaml_text(prometheus.rules())
    result["alertmanager/alertmanager.yml"] = yaml_text(
        alertmanager_config(),
        notes=(
            "Install as /etc/prometheus/alertmanager.yml and replace the receivers' placeholder URLs there",
            "(docs/deploy.md, 'Paging').",
        ),
    )
    prometheus_url = f"http://127.0.0.1:{prometheus.PROMETHEUS_PORT}"
    result["grafana/provisioning/datasources/scaisend.yaml"] = yaml_text(grafana.datasources(prometheus_url))
    result["grafana/provisioning/dashboards/scaisend.yaml"] = yaml_text(grafana.dashboard_provider(GRAFANA_DASHBOARDS))
    return result
