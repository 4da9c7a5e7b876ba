"""``scaisend dev --with-monitoring``: Prometheus and Alertmanager start beside the dev processes from the generated
configs; Prometheus sees the four targets up and the generated rule groups loaded."""

from __future__ import annotations

import re
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest

from alerts.rules import rule_groups
from scaisend.processes import PROCESSES
from tests.dev.test_embedded import DevRun

pytestmark = [
    pytest.mark.timeout(150),
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus missing: `make test` installs it"),
]


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.5)
    return False


def test_targets_up_and_rules_loaded(tmp_path: Path) -> None:
    run = DevRun(tmp_path / "data", tmp_path / "stderr.log", "--with-monitoring")
    try:
        run.start()
        match = re.search(
            r"Prometheus: (http://127\.0\.0\.1:\d+)\s+Alertmanager: (http://127\.0\.0\.1:\d+)", run.stderr()
        )
        assert match, run.stderr()
        prometheus, alertmanager = match.groups()
        assert httpx.get(f"{alertmanager}/-/ready", timeout=5).status_code == 200

        def all_up() -> bool:
            targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            return {t["labels"]["job"]: t["health"] for t in targets} == {p.job: "up" for p in PROCESSES}

        assert _wait(all_up, 60), httpx.get(f"{prometheus}/api/v1/targets", timeout=5).text
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {g["name"] for g in groups} == {g["name"] for g in rule_groups()["groups"]}
        assert run.stop(signal.SIGINT) == 0
        assert set(run.pids) >= {"prometheus", "alertmanager"}
    finally:
        run.kill_leftovers()
