"""The real ``scaisend serve`` process on a loopback port, for tests that drive the API with unchanged third-party
clients (the official ``sendgrid`` package speaks plain HTTP through urllib, so it needs a socket)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from scaisend.settings import Settings
from tests.harness.processes import ROOT, SCAISEND, free_port, settings_env, wait_http


@contextmanager
def running_api(settings: Settings) -> Iterator[str]:
    """Start the API with ``settings``; yields its base URL and stops the process afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [*SCAISEND, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=settings_env(settings),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/health")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
