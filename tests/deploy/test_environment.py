"""The settings each target hands the processes, and proof that the processes serve ``/metrics`` where every scrape
configuration looks: the port settings default to :data:`scaisend.processes.PROCESSES`, and the real API, exporter,
worker and SMTP processes answer on the port their setting names (D17; `scaisend/settings.py`, `.env.example`, D23)."""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy import environment
from exporter.main import create_exporter_app
from scaisend.api.app import create_app
from scaisend.cli.main import build_parser
from scaisend.processes import API, EXPORTER, PROCESSES, SMTP, WORKER, Process
from scaisend.settings import Settings
from tests.harness.processes import ROOT, SCAISEND, free_port, settings_env, stop_process, wait_http

SCAISEND_COMMANDS = set(next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices)


class TestSettings:
    @pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
    def test_port_setting_defaults_to_the_catalogue_port(self, process: Process) -> None:
        assert environment.PORT_SETTINGS[process.name] == process.port_setting
        assert Settings.model_fields[process.port_setting].default == process.port

    @pytest.mark.parametrize("process", PROCESSES, ids=lambda p: p.name)
    def test_the_subcommand_runs_the_process(self, process: Process) -> None:
        assert environment.COMMANDS[process.name] == process.command
        assert {process.command} <= SCAISEND_COMMANDS

    @pytest.mark.parametrize("container", [True, False])
    def test_every_setting_is_handed_over_or_deliberately_left_out(self, container: bool) -> None:
        handed = environment.service_environment(container=container)
        for name, field in Settings.model_fields.items():
            if name in environment.SECRET_SETTINGS:
                assert name not in handed
            elif field.default != "":
                assert name in handed, f"{name} is missing from the deploy environment"

    @pytest.mark.parametrize("container", [True, False])
    def test_values_pass_validation(self, container: bool) -> None:
        values = {
            **environment.service_environment(container=container),
            **environment.secret_placeholders(mysql_host="db", redis_host="redis"),
        }
        Settings(_env_file=None, **values)  # type: ignore[call-arg]

    @pytest.mark.parametrize("container", [True, False])
    def test_no_relative_paths_reach_a_deployment(self, container: bool) -> None:
        for name, value in environment.service_environment(container=container).items():
            assert not value.startswith("."), f"{name}={value} is relative to the working directory"

    def test_every_path_setting_has_a_state_folder(self) -> None:
        path_settings = {name for name in Settings.model_fields if name.endswith("_PATH")}
        assert path_settings == {state.setting for state in environment.STATE_PATHS}


class TestProcessesServeMetrics:
    async def test_api_serves_metrics_on_its_app(self, settings: Settings) -> None:
        app = create_app(settings)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                response = await client.get(API.metrics_path)
        finally:
            await app.state.resources.aclose()
        assert response.status_code == 200
        assert "# TYPE scaisend_http_requests_total counter" in response.text

    async def test_exporter_serves_metrics_and_health(self, database: Settings) -> None:
        app = create_exporter_app(database)
        # the lifespan closes the exporter's Redis and database pools (an unclosed StreamWriter surfaced later)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            health = await client.get("/health")
            metrics = await client.get(EXPORTER.metrics_path)
        assert health.status_code == 200
        assert metrics.status_code == 200
        assert "scaisend_exporter_up 1" in metrics.text


@pytest.fixture
def started(database: Settings, tmp_path: Path) -> Iterator[dict[str, int]]:
    """``scaisend worker`` and ``scaisend smtp`` as real processes, each told its metrics port by its setting."""
    ports = {WORKER.name: free_port(), SMTP.name: free_port()}
    children = []
    for name, port in ports.items():
        extra = {
            environment.PORT_SETTINGS[name]: str(port),
            "METRICS_HOST": "127.0.0.1",
            "SMTP_INBOUND_HOST": "127.0.0.1",
            "SMTP_INBOUND_PORT": str(free_port()),
            "INBOUND_QUARANTINE_PATH": str(tmp_path / "inbound"),
        }
        command = [*SCAISEND, name]
        children.append(
            subprocess.Popen(
                command,
                env=settings_env(database, **extra),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        yield ports
    finally:
        for child in children:
            stop_process(child)


def test_worker_and_smtp_serve_metrics_on_their_port_setting(started: dict[str, int]) -> None:
    for name, port in started.items():
        process = next(p for p in PROCESSES if p.name == name)
        url = f"http://127.0.0.1:{port}{process.metrics_path}"
        wait_http(url, timeout=30)
        response = httpx.get(url, timeout=5)
        assert response.status_code == 200, name
        assert "# TYPE python_info gauge" in response.text, name
