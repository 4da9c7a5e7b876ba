"""Run ``scaisend`` commands as real processes with the test settings in their environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from scaisend.settings import Settings, as_environment

SCAISEND = [sys.executable, "-m", "scaisend"]
ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    values, unset = as_environment(settings)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in unset and not k.startswith(("DATABASE_", "REDIS_", "SMTP_", "API_"))
    }
    return env | values | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(settings: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCAISEND, *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def stop_process(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def start_service(command: str, settings: Settings, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """``scaisend <command>`` as a real process with ``settings`` (plus ``extra`` variables); output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [*SCAISEND, command],
            env=settings_env(settings, METRICS_HOST="127.0.0.1", **extra),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
