"""Child processes of ``scaisend dev`` (D16): the API, worker, SMTP service and exporter, each a
``python -m scaisend <command>`` with the dev settings in its environment and its output in ``<data dir>/logs``.

Each child runs in its own process group (so a terminal's Ctrl-C reaches only ``scaisend dev``, which then stops the
children in order) and is asked to die with its parent (``PR_SET_PDEATHSIG``) in case ``scaisend dev`` is killed
outright. Stopping sends SIGTERM to the group, then SIGKILL after a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import httpx

from scaisend.dev.redis_server import die_with_parent
from scaisend.settings import Settings

SCAISEND = (sys.executable, "-m", "scaisend")


def settings_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that gives a child exactly ``settings``: every setting of ours replaces the inherited one,
    and empty settings are left out (an empty ``PROMETHEUS_MULTIPROC_DIR`` would switch prometheus-client to
    multiprocess files in the working directory)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in Settings.model_fields}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value == "":
            continue
        env[name] = str(value).lower() if isinstance(value, bool) else str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class ChildSpec:
    """What to run.

    :param name: short name used in messages and for the log file (``logs/<name>.log``)
    :param argv: the command line
    :param ready_url: an HTTP URL that answers 200 once the child is up (``None``: running is enough)
    :param essential: ``scaisend dev`` cannot go on without it (the API)
    """

    name: str
    argv: tuple[str, ...]
    ready_url: str | None = None
    essential: bool = False


def scaisend_child(name: str, command: str, ready_url: str | None, *, essential: bool = False) -> ChildSpec:
    return ChildSpec(name=name, argv=(*SCAISEND, command), ready_url=ready_url, essential=essential)


class Readiness(Enum):
    READY = "ready"
    EXITED = "exited"
    TIMEOUT = "timeout"


class Child:
    """One running child process."""

    def __init__(self, spec: ChildSpec, env: Mapping[str, str], log_dir: Path, cwd: Path) -> None:
        self.spec = spec
        self.env = dict(env)
        self.log_path = log_dir / f"{spec.name}.log"
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.reported_exit = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Spawn the child; call from the main thread (the parent-death signal follows the forking thread)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                list(self.spec.argv), env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM),
            )

    async def wait_ready(self, client: httpx.AsyncClient, timeout: float) -> Readiness:
        """Poll ``ready_url`` until it answers 200, the child exits, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return Readiness.EXITED
            if self.spec.ready_url is None:
                return Readiness.READY
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(self.spec.ready_url, timeout=1.0)).status_code == 200:
                    return Readiness.READY
            await asyncio.sleep(0.1)
        return Readiness.EXITED if not self.running else Readiness.TIMEOUT

    def signal_group(self, sig: int) -> None:
        """Send ``sig`` to the child's process group while the child is not yet reaped."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    async def wait_exit(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to exit (and reap it); whether it did."""
        process = self.process
        if process is None:
            return True
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the group, SIGKILL after ``timeout``; the child is reaped when this returns."""
        if self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        if not await self.wait_exit(timeout):
            self.signal_group(signal.SIGKILL)
            await asyncio.to_thread(self.process.wait)

    def log_tail(self, lines: int = 8) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.strip().splitlines() if line.strip()][-lines:]
