"""CLI commands run beside ``scaisend dev`` read the dev stack's Redis and database (issue 16: ``scaisend queues``
showed 0 while a message was queued, because it read the system's Redis).

The real ``scaisend queues`` runs as a process in the folder holding ``.scaisend/`` with no database or Redis in its
environment: it finds the running stack (and says so on stderr) and counts the scheduled message. From another
folder it uses the dev stack only once ``dev.env`` is sourced; an explicit ``REDIS_URL`` always wins. The file goes
away when dev stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from scaisend.dev_env import read_env_file
from scaisend.settings import Settings
from tests.dev.test_embedded import DevRun

pytestmark = pytest.mark.timeout(150)
SCHEDULED = 5  # messages held for an hour on email:process


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m scaisend ARGS`` in ``cwd`` with no ScaiSend setting in its environment but ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return subprocess.run(
        [sys.executable, "-m", "scaisend", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_queues_beside_a_running_dev_stack_counts_its_queue(tmp_path: Path) -> None:
    project = tmp_path / "project"
    elsewhere = tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    run = DevRun(project / ".scaisend", tmp_path / "stderr.log")
    try:
        shown = run.start()
        env_file = project / ".scaisend" / "dev.env"
        deadline = time.monotonic() + 10  # stderr's closing lines may follow the four stdout lines by a moment
        while "CLI: " not in run.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "CLI: " in run.stderr()
        assert str(env_file) in run.stderr()
        later = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
        body = {
            "personalizations": [{"to": [{"email": f"later{i}@example.com"}]} for i in range(SCHEDULED)],
            "from": {"email": shown["Sender"]},
            "subject": "scheduled",
            "content": [{"type": "text/plain", "value": "see you in an hour"}],
            "send_at": int(later.timestamp()),
        }
        headers = {"Authorization": f"Bearer {shown['API key']}"}
        sent = httpx.post(f"{shown['API']}/v3/mail/send", json=body, headers=headers, timeout=10)
        assert sent.status_code == 202, sent.text

        here = cli(project, "queues", "--json")
        assert here.returncode == 0, here.stderr
        assert json.loads(here.stdout)["email:process"] >= SCHEDULED  # plus any cron job arq has queued there
        assert "using the scaisend dev stack running here" in here.stderr
        assert str(env_file) in here.stderr

        away = cli(elsewhere, "queues", "--json")
        assert "dev stack" not in away.stderr  # no dev stack in that folder: the system's Redis, as configured

        sourced = cli(elsewhere, "queues", "--json", **read_env_file(env_file))
        assert sourced.returncode == 0, sourced.stderr
        assert json.loads(sourced.stdout)["email:process"] >= SCHEDULED
        assert sourced.stderr == ""

        chosen = cli(project, "queues", "--json", REDIS_URL="redis://127.0.0.1:1/0")
        assert chosen.returncode != 0  # the explicit (unreachable) Redis is used, not the dev stack's
        assert "dev stack" not in chosen.stderr

        tenants = cli(project, "tenants", "create", "Beside Dev")
        assert tenants.returncode == 0, tenants.stderr
        assert tenants.stdout.strip().splitlines()[-1].startswith("tnt_")

        assert run.stop(signal.SIGINT) == 0
        deadline = time.monotonic() + 10
        while env_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not env_file.exists()
        after = cli(project, "queues", "--json")
        assert "dev stack" not in after.stderr
    finally:
        run.kill_leftovers()
