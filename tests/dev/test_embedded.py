"""``scaisend dev`` end to end (D16): a real process tree on free ports prints its four lines, serves the API with
the demo key, delivers a sent message (API → worker → SMTP service) DKIM-signed into the capture MX, refuses a
second instance on the same data dir, restarts a child killed with SIGKILL (and says so) so that mail still flows,
stops every child on SIGINT/SIGTERM with exit 0, and prints the same key when run again. A child that cannot start
(its port is taken) stops dev with exit code 1 and a message naming the option to change (issue 14 item 6, D63)."""

from __future__ import annotations

import contextlib
import email
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.settings import Settings
from tests.harness.processes import ROOT, free_port, wait_http

START_TIMEOUT = 90.0  # two shared cores under other engineers' tests: importing scaisend alone can take 20 s
READY_TIMEOUT = "80"
STOP_TIMEOUT = 20.0
MAIL_TIMEOUT = 20.0
LINE_PREFIXES = ("API: ", "API key: ", "Sender: ", "Mailbox: ")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class DevRun:
    """One ``python -m scaisend dev`` subprocess with its own free ports and data dir."""

    def __init__(self, data_dir: Path, stderr_path: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.ports = {name: free_port() for name in ("api", "smtp", "mx", "worker", "smtp_metrics", "exporter")}
        self.argv = [
            sys.executable,
            "-m",
            "scaisend",
            "dev",
            "--data-dir",
            str(data_dir),
            "--port",
            str(self.ports["api"]),
            "--smtp-port",
            str(self.ports["smtp"]),
            "--mx-port",
            str(self.ports["mx"]),
            "--worker-metrics-port",
            str(self.ports["worker"]),
            "--smtp-metrics-port",
            str(self.ports["smtp_metrics"]),
            "--exporter-port",
            str(self.ports["exporter"]),
            "--ready-timeout",
            READY_TIMEOUT,
            *extra,
        ]
        self.stderr_path = stderr_path
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.process: subprocess.Popen[str] | None = None
        self.pids: dict[str, int] = {}
        self.startup_seconds = 0.0
        self.reader: threading.Thread | None = None

    def start(self) -> dict[str, str]:
        """Start it and return the four announced values, keyed by label (``API``, ``API key``, ...)."""
        env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        began = time.monotonic()
        with self.stderr_path.open("w") as err:
            self.process = subprocess.Popen(
                self.argv, stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL
            )
        self.reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.reader.start()
        announced: dict[str, str] = {}
        deadline = began + START_TIMEOUT
        while len(announced) < len(LINE_PREFIXES):
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no four lines within {START_TIMEOUT}s; stderr:\n{self.stderr()}")
            if line is None:
                pytest.fail(f"scaisend dev exited ({self.process.poll()}) before announcing; stderr:\n{self.stderr()}")
            label, _, value = line.partition(": ")
            assert f"{label}: " in LINE_PREFIXES, f"unexpected stdout line {line!r}"
            announced[label] = value
        self.startup_seconds = time.monotonic() - began
        self.pids = json.loads((self.data_dir / "processes.json").read_text())
        return announced

    def _read_stdout(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int) -> int:
        """Send ``sig``; the exit code (fails the test if it takes longer than STOP_TIMEOUT)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"scaisend dev did not exit within {STOP_TIMEOUT}s of {sig!r}")

    def kill_leftovers(self) -> None:
        """Last resort for the ``finally`` blocks: nothing of this run may outlive the test."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for pid in self.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.reader is not None:
            self.reader.join(10)  # at the pipe's end once the process is gone
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def _wait_until(condition: Callable[[], bool], timeout: float, explain: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s:\n{explain()}")
        time.sleep(0.1)


def _check_api(api: str, key: str) -> None:
    assert httpx.get(f"{api}/health", timeout=5).status_code == 200
    assert httpx.get(f"{api}/ready", timeout=5).status_code == 200
    auth = {"Authorization": f"Bearer {key}"}
    scopes = httpx.get(f"{api}/v3/scopes", headers=auth, timeout=5)
    assert scopes.status_code == 200, scopes.text
    assert set(scopes.json()["scopes"]) == SCOPE_NAMES
    keys = httpx.get(f"{api}/v3/api_keys", headers=auth, timeout=5)
    assert keys.status_code == 200, keys.text
    assert key[:16] in [k["prefix"] for k in keys.json()["api_keys"]]


def _send_through_the_pipeline(api: str, key: str, sender: str, mailbox: Path, logs: Path) -> Path:
    """POST /v3/mail/send; the worker renders, the SMTP service relays to the capture MX; return the stored file."""
    body = {
        "personalizations": [{"to": [{"email": "someone@example.com"}]}],
        "from": {"email": sender},
        "subject": "via the dev capture MX",
        "content": [{"type": "text/plain", "value": "hello"}],
    }
    before = set(mailbox.glob("*.eml"))
    sent = httpx.post(f"{api}/v3/mail/send", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert sent.status_code == 202, sent.text
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        stored = sorted(set(mailbox.glob("*.eml")) - before)
        if stored:
            assert len(stored) == 1
            return stored[0]
        time.sleep(0.1)
    tails = {p.name: p.read_text(errors="replace")[-1500:] for p in sorted(logs.glob("*.log"))}
    pytest.fail(f"no .eml in {mailbox} within {MAIL_TIMEOUT}s of {sent.json()}; logs: {tails}")


@pytest.mark.timeout(420)
def test_dev_starts_serves_stops_and_restarts_with_the_same_key(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    data_dir = tmp_path / "dev"
    first = DevRun(data_dir, tmp_path / "first.stderr")
    try:
        shown = first.start()
        assert shown["API"] == f"http://127.0.0.1:{first.ports['api']}"
        assert shown["API key"].startswith("sg_live_")
        assert shown["Sender"] == "demo@demo.scaisend.example"
        assert Path(shown["Mailbox"]) == (data_dir / "mail").resolve()
        assert set(first.pids) >= {"dev", "redis", "api", "worker", "smtp", "exporter"}
        assert all(_alive(pid) for pid in first.pids.values()), first.pids
        _check_api(shown["API"], shown["API key"])

        rival = subprocess.run(
            DevRun(data_dir, tmp_path / "rival.stderr").argv,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=START_TIMEOUT,
            check=False,
        )
        assert rival.returncode == 1
        assert "another scaisend dev" in rival.stderr
        assert rival.stdout == ""
        assert json.loads((data_dir / "processes.json").read_text()) == first.pids  # the rival left it alone

        stored = _send_through_the_pipeline(
            shown["API"], shown["API key"], shown["Sender"], Path(shown["Mailbox"]), data_dir / "logs"
        )
        captured = email.message_from_bytes(stored.read_bytes())
        assert captured["Delivered-To"] == "someone@example.com"
        assert captured["Subject"] == "via the dev capture MX"
        assert "d=demo.scaisend.example" in " ".join(str(captured["DKIM-Signature"]).split())

        # a worker killed later is reported, restarted after 1 s, and the next message is delivered again
        os.kill(first.pids["worker"], signal.SIGKILL)
        _wait_until(lambda: "worker restarted (pid" in first.stderr(), 30, first.stderr)
        assert "worker exited with code -9; restarting it in 1s (restart 1;" in first.stderr()
        restarted = json.loads((data_dir / "processes.json").read_text())
        assert restarted["worker"] != first.pids["worker"]
        first.pids = restarted
        wait_http(f"http://127.0.0.1:{first.ports['worker']}/metrics", timeout=START_TIMEOUT)
        _send_through_the_pipeline(
            shown["API"], shown["API key"], shown["Sender"], Path(shown["Mailbox"]), data_dir / "logs"
        )

        assert first.stop(signal.SIGINT) == 0
        left = {name: pid for name, pid in first.pids.items() if _alive(pid)}
        assert not left, f"still running after SIGINT: {left}"
        assert not (data_dir / "processes.json").exists()
    finally:
        first.kill_leftovers()

    # a child that cannot start (its port is taken, e.g. by a stack still stopping) stops dev, naming the option
    with socket.socket() as blocker:
        blocked = DevRun(data_dir, tmp_path / "blocked.stderr")
        blocker.bind(("127.0.0.1", blocked.ports["worker"]))
        blocker.listen()
        refused = subprocess.run(
            blocked.argv, capture_output=True, text=True, cwd=ROOT, timeout=START_TIMEOUT, check=False
        )
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert f"worker metrics port {blocked.ports['worker']} is in use" in refused.stderr
    assert "--worker-metrics-port" in refused.stderr

    # a second run reuses everything
    second = DevRun(data_dir, tmp_path / "second.stderr")
    try:
        again = second.start()
        assert again["API key"] == shown["API key"]
        _check_api(again["API"], again["API key"])
        assert second.stop(signal.SIGTERM) == 0
        left = {name: pid for name, pid in second.pids.items() if _alive(pid)}
        assert not left, f"still running after SIGTERM: {left}"
    finally:
        second.kill_leftovers()

    record_property("startup_seconds_first_run", round(first.startup_seconds, 2))
    record_property("startup_seconds_second_run", round(second.startup_seconds, 2))
    print(
        f"\nscaisend dev start-up: first run {first.startup_seconds:.1f}s (fresh database, migrations, demo "
        f"account), second run {second.startup_seconds:.1f}s"
    )
