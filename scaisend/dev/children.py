"""Child processes of ``scaisend dev`` (D16): the API, worker, SMTP service and exporter, each a
``python -m scaisend <command>`` with the dev settings in its environment (:func:`export_env`) and its output in
``<data dir>/logs``.

A child that exits after start-up is started again after 1, 2, 4 … up to :data:`RESTART_BACKOFF_MAX` seconds
(:meth:`Child.schedule_restart`); the count starts over once a child has stayed up for :data:`STABLE_AFTER` seconds.

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
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import httpx

from scaisend.dev.redis_server import die_with_parent
from scaisend.settings import Settings, as_environment

SCAISEND = (sys.executable, "-m", "scaisend")
RESTART_BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0
PORT_IN_USE_MARKERS = ("Address already in use", "[Errno 98]", "address already in use")


@dataclass(frozen=True)
class ChildEnvironment:
    """What the children's environment must say so that their ``load_settings()`` gives the dev Settings object:
    every non-empty setting (bools as ``true``/``false``), and the empty ones removed (an empty
    ``PROMETHEUS_MULTIPROC_DIR`` would switch prometheus-client to multiprocess files in the working directory)."""

    values: dict[str, str]
    unset: tuple[str, ...]


def settings_env(settings: Settings) -> ChildEnvironment:
    values, unset = as_environment(settings)
    values["PYTHONUNBUFFERED"] = "1"  # log lines reach logs/<name>.log as they are written
    return ChildEnvironment(values, tuple(unset))


def export_env(env: ChildEnvironment) -> None:
    """Write ``env`` into this process's environment block, which every child spawned afterwards inherits (along
    with PATH, locale and the rest). It only writes (``os.putenv``/``os.unsetenv``); like every module but
    ``scaisend/settings.py``, this one reads nothing from the environment. Call it once, from the main thread,
    after the dev settings are built and before the children start."""
    for name, value in env.values.items():
        os.putenv(name, value)
    for name in env.unset:
        os.unsetenv(name)


@dataclass(frozen=True)
class ChildSpec:
    """What to run.

    :param name: short name used in messages and for the log file (``logs/<name>.log``)
    :param argv: the command line
    :param ready_url: an HTTP URL that answers 200 once the child is up (``None``: running is enough)
    :param essential: ``scaisend dev`` does not start without it (the four ScaiSend processes)
    :param port: the port it listens on and the ``scaisend dev`` option that changes it, named when it cannot bind
    """

    name: str
    argv: tuple[str, ...]
    ready_url: str | None = None
    essential: bool = False
    port: tuple[int, str] | None = None


def scaisend_child(
    name: str, command: str, ready_url: str | None, *, essential: bool = True, port: tuple[int, str] | None = None
) -> ChildSpec:
    return ChildSpec(name=name, argv=(*SCAISEND, command), ready_url=ready_url, essential=essential, port=port)


class Readiness(Enum):
    READY = "ready"
    EXITED = "exited"
    TIMEOUT = "timeout"


class Child:
    """One running child process."""

    def __init__(self, spec: ChildSpec, log_dir: Path, cwd: Path) -> None:
        self.spec = spec
        self.log_path = log_dir / f"{spec.name}.log"
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.reported_exit = False
        self.started_at: float | None = None
        self.restarts = 0
        self.restart_at: float | None = None

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
        self.started_at, self.restart_at = time.monotonic(), None
        with self.log_path.open("ab") as log:  # a restarted child appends: the log keeps why it died
            self.process = subprocess.Popen(
                list(self.spec.argv),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
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

    def schedule_restart(self, now: float) -> float:
        """Count a restart and set when it is due; the delay in seconds (1, 2, 4 … :data:`RESTART_BACKOFF_MAX`,
        from 1 again when the child had stayed up for :data:`STABLE_AFTER` seconds)."""
        if self.started_at is not None and now - self.started_at >= STABLE_AFTER:
            self.restarts = 0
        self.restarts += 1
        delay = min(2.0 ** (self.restarts - 1), RESTART_BACKOFF_MAX)
        self.restart_at = now + delay
        return delay

    def port_in_use(self) -> bool:
        """Whether its log says it could not bind its port."""
        return any(marker in line for line in self.log_tail(20) for marker in PORT_IN_USE_MARKERS)

    def log_tail(self, lines: int = 8) -> list[str]:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [line for line in text.strip().splitlines() if line.strip()][-lines:]
