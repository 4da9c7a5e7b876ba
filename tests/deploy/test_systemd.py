"""systemd units for a host install: ``systemd-analyze verify`` accepts each one without a word on stderr, the
sandboxing and capabilities are what docs/deploy.md says, and the host Prometheus/Alertmanager configs load
(docs/deploy.md, docs/observability.md, docs/runbooks.md item 9)."""

from __future__ import annotations

import configparser
import shutil
from pathlib import Path

import pytest

from deploy import environment, systemd
from scaisend.processes import PROCESSES
from scaisend.settings import Settings
from tests.alerts.tools import AMTOOL, PROMTOOL, needs_amtool, needs_promtool
from tests.alerts.tools import run as run_tool
from tests.deploy.tools import (
    DEPLOY,
    ROOT,
    SYSTEMD_ANALYZE,
    SYSTEMD_SYSUSERS,
    needs_systemd_analyze,
    needs_systemd_sysusers,
    run,
)

SYSTEMD = DEPLOY / "systemd"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
SCAISEND = ROOT / ".venv" / "bin" / "scaisend"


def _unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((SYSTEMD / name).read_text())
    return parser


@pytest.fixture(scope="module")
def verify_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units with ExecStart pointing at this checkout's ``scaisend`` (verify wants an existing executable).
    ``User=scaisend`` need not exist: systemd-analyze does not resolve users, and says nothing about them."""
    directory = tmp_path_factory.mktemp("units")
    executable = SCAISEND if SCAISEND.exists() else Path(shutil.which("scaisend") or "/usr/bin/true")
    for name in UNITS:
        text = (SYSTEMD / name).read_text().replace(systemd.EXECUTABLE, str(executable))
        (directory / name).write_text(text)
    return directory


class TestVerify:
    def test_all_five_units_are_generated(self) -> None:
        assert (
            sorted(
                [
                    "scaisend-api.service",
                    "scaisend-worker.service",
                    "scaisend-smtp.service",
                    "scaisend-exporter.service",
                    "scaisend-migrate.service",
                ]
            )
            == UNITS
        )

    @needs_systemd_analyze
    @pytest.mark.parametrize("name", UNITS)
    def test_systemd_analyze_verify_is_silent(self, verify_dir: Path, name: str) -> None:
        result = run(str(SYSTEMD_ANALYZE), "verify", verify_dir / name)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""

    @needs_systemd_analyze
    def test_verify_would_catch_an_unknown_key(self, verify_dir: Path, tmp_path: Path) -> None:
        for name in UNITS:
            shutil.copy(verify_dir / name, tmp_path / name)
        unit = tmp_path / "scaisend-api.service"
        unit.write_text(unit.read_text().replace("[Service]\n", "[Service]\nProtectSystm=strict\n"))
        result = run(str(SYSTEMD_ANALYZE), "verify", unit)
        assert "Unknown key" in result.stderr


class TestUnits:
    @pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
    def test_service_runs_its_command_as_scaisend(self, process: object) -> None:
        service = _unit(f"scaisend-{process.name}.service")["Service"]  # type: ignore[attr-defined]
        command = environment.COMMANDS[process.name]  # type: ignore[attr-defined]
        assert service["ExecStart"] == f"/opt/scaisend/venv/bin/scaisend {command}"
        assert service["User"] == "scaisend"
        assert service["EnvironmentFile"] == "/etc/scaisend/scaisend.env"
        assert service["Restart"] == "on-failure"

    @pytest.mark.parametrize("name", UNITS)
    def test_sandboxing(self, name: str) -> None:
        service = _unit(name)["Service"]
        for key, value in {
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "ProtectHome": "yes",
            "PrivateTmp": "yes",
        }.items():
            assert service[key] == value, (name, key)
        expected = "CAP_NET_BIND_SERVICE" if name == "scaisend-smtp.service" else ""
        assert service["CapabilityBoundingSet"] == expected
        assert service["AmbientCapabilities"] == expected

    def test_state_folders_are_state_directories(self) -> None:
        for state in environment.STATE_PATHS:
            directories = _unit(f"scaisend-{state.process}.service")["Service"]["StateDirectory"].split()
            assert state.path == f"/var/lib/{directories[-1]}"

    def test_services_need_the_migration_and_the_exporter_only_wants_it(self) -> None:
        for name in ("scaisend-api.service", "scaisend-worker.service", "scaisend-smtp.service"):
            unit = _unit(name)["Unit"]
            assert unit["Requires"] == "scaisend-migrate.service"
            assert unit["After"].startswith("scaisend-migrate.service")
        exporter = _unit("scaisend-exporter.service")["Unit"]
        assert "Requires" not in exporter
        assert "scaisend-migrate.service" in exporter["Wants"]
        migrate = _unit("scaisend-migrate.service")["Service"]
        assert migrate["Type"] == "oneshot"
        assert migrate["RemainAfterExit"] == "yes"


class TestEnvironmentFile:
    def test_env_file_makes_valid_settings_with_placeholder_secrets(self) -> None:
        values = {}
        for line in (SYSTEMD / "scaisend.env").read_text().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                values[name] = value
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        assert settings.SMTP_INBOUND_PORT == 25
        assert settings.API_HOST == "127.0.0.1"
        for name in environment.SECRET_SETTINGS:
            assert environment.PLACEHOLDER in values[name] or name == "REDIS_URL"

    @needs_systemd_sysusers
    def test_sysusers_entry_creates_the_user(self, tmp_path: Path) -> None:
        result = run(str(SYSTEMD_SYSUSERS), "--dry-run", f"--root={tmp_path}", SYSTEMD / "sysusers.d/scaisend.conf")
        assert result.returncode == 0, result.stderr
        assert "Creating user 'scaisend'" in result.stderr + result.stdout


class TestMonitoringFiles:
    @needs_promtool
    def test_host_prometheus_config_and_rules_load(self) -> None:
        result = run_tool(PROMTOOL, "check", "config", SYSTEMD / "prometheus" / "prometheus.yml")
        assert result.returncode == 0, result.stdout + result.stderr

    @needs_amtool
    def test_host_alertmanager_config_loads(self) -> None:
        result = run_tool(AMTOOL, "check-config", SYSTEMD / "alertmanager" / "alertmanager.yml")
        assert result.returncode == 0, result.stdout + result.stderr
