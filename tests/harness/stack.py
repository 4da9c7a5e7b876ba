"""The four services as real processes (``scaisend serve|worker|smtp|exporter``) on free loopback ports, for the
end-to-end tests that need the whole pipeline the way an operator runs it."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scaisend.processes import PROCESSES
from scaisend.settings import Settings
from tests.harness.processes import ROOT, SCAISEND, free_port, settings_env, wait_http

COMMANDS = {"api": "serve", "worker": "worker", "smtp": "smtp", "exporter": "exporter"}


@dataclass
class Stack:
    settings: Settings
    ports: dict[str, int]
    procs: dict[str, subprocess.Popen[bytes]]
    logs: Path

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def kill(self, name: str) -> None:
        """``kill -9`` of one service (an OOM, a lost node)."""
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)

    def start_one(self, name: str, *, ready_timeout: float = 180) -> None:
        """Start one service again with the stack's settings (its log is appended to) and wait until it answers."""
        with (self.logs / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [*SCAISEND, COMMANDS[name]],
                env=settings_env(self.settings),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        path = "/ready" if name == "api" else "/metrics"
        wait_http(f"http://127.0.0.1:{self.ports[name]}{path}", timeout=ready_timeout)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def trouble(self, lines: int = 20) -> str:
        """The last warnings and errors each service logged, for a failing test's message."""
        parts = []
        for name in self.procs:
            found = [
                line
                for line in self.log(name).splitlines()
                if '"level": "WARNING"' in line or '"level": "ERROR"' in line or "Traceback" in line
            ]
            state = "running" if self.procs[name].poll() is None else f"exited {self.procs[name].returncode}"
            parts.append(f"--- {name} ({state}): " + ("\n".join(found[-lines:]) or "no warnings"))
        return "\n".join(parts)


def start_stack(settings: Settings, workdir: Path, *, ready_timeout: float = 180) -> Stack:
    """Start the four services with ``settings`` (ports replaced by free ones); logs go to ``workdir``. Each must
    answer within ``ready_timeout`` seconds (four interpreters importing at once on a busy machine are slow)."""
    ports = {p.name: free_port() for p in PROCESSES}
    settings = settings.model_copy(
        update={
            "API_PORT": ports["api"],
            "WORKER_METRICS_PORT": ports["worker"],
            "SMTP_METRICS_PORT": ports["smtp"],
            "EXPORTER_PORT": ports["exporter"],
            "SMTP_INBOUND_PORT": free_port(),
            "API_HOST": "127.0.0.1",
            "METRICS_HOST": "127.0.0.1",
            "INBOUND_QUARANTINE_PATH": str(workdir / "inbound"),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['api']}",  # tracking links in sent mail reach this API
        }
    )
    stack = Stack(settings, ports, {}, workdir)
    for name, command in COMMANDS.items():
        with (workdir / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
            stack.procs[name] = subprocess.Popen(
                [*SCAISEND, command], env=settings_env(settings), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
    try:
        wait_http(f"{stack.api}/ready", timeout=ready_timeout)
        for name in ("worker", "smtp", "exporter"):
            wait_http(f"http://127.0.0.1:{ports[name]}/metrics", timeout=ready_timeout)
    except TimeoutError:
        stack.stop()
        raise
    return stack
