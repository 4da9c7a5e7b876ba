"""``scaisend dev --with-monitoring``: Prometheus and Alertmanager start beside the dev processes from the generated
configs; Prometheus sees the four targets up and the generated rule groups loaded; and a healthy stack pages no one
(issue 16): after a few sends, for a whole minute of 5-second rule evaluations no alert is pending or firing in
Prometheus and Alertmanager holds none."""

from __future__ import annotations

import re
import shutil
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from alerts.rules import rule_groups
from scaisend.processes import PROCESSES
from tests.dev.test_embedded import DevRun

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus missing: `make test` installs it"),
]


PROMETHEUS_LINE = r"Prometheus: (http://127\.0\.0\.1:\d+)\s+Alertmanager: (http://127\.0\.0\.1:\d+)"
SENDS = 3
QUIET_SECONDS = 60.0


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.5)
    return False


def all_up(prometheus: str) -> bool:
    targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    return {t["labels"]["job"]: t["health"] for t in targets} == {p.job: "up" for p in PROCESSES}


def instant(prometheus: str, query: str) -> float:
    """The single value of an instant query, 0 when it returns nothing."""
    result = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def evaluated_since(prometheus: str, since: datetime) -> bool:
    """Every rule group has been evaluated after ``since`` (an ``absent()`` alert seen pending before the first scrape
    is only cleared by the next evaluation)."""
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    return bool(groups) and all(_timestamp(g["lastEvaluation"]) > since for g in groups)


def _timestamp(rfc3339: str) -> datetime:
    """Prometheus' nanosecond RFC 3339 time, cut to microseconds."""
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", rfc3339.replace("Z", "+00:00"))
    return datetime.fromisoformat(stamp)


def active_alerts(prometheus: str) -> list[dict[str, object]]:
    """Alerts Prometheus holds pending or firing."""
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [a for a in alerts if a["state"] in ("pending", "firing")]


def test_targets_up_and_rules_loaded(tmp_path: Path) -> None:
    run = DevRun(tmp_path / "data", tmp_path / "stderr.log", "--with-monitoring")
    try:
        run.start()
        match = re.search(PROMETHEUS_LINE, run.stderr())
        assert match, run.stderr()
        prometheus, alertmanager = match.groups()
        assert httpx.get(f"{alertmanager}/-/ready", timeout=5).status_code == 200

        assert _wait(lambda: all_up(prometheus), 60), httpx.get(f"{prometheus}/api/v1/targets", timeout=5).text
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert {g["name"] for g in groups} == {g["name"] for g in rule_groups()["groups"]}
        assert run.stop(signal.SIGINT) == 0
        assert set(run.pids) >= {"prometheus", "alertmanager"}
    finally:
        run.kill_leftovers()


def test_a_healthy_stack_pages_no_one(tmp_path: Path) -> None:
    """Issue 16: three sends on a fresh stack left ScaiSendDkimSigningSlow pending (one cold first signature was the
    p99). With every latency and ratio alert guarded by a minimum volume, nothing is pending or firing."""
    run = DevRun(tmp_path / "data", tmp_path / "stderr.log", "--with-monitoring")
    try:
        shown = run.start()
        match = re.search(PROMETHEUS_LINE, run.stderr())
        assert match, run.stderr()
        prometheus, alertmanager = match.groups()
        assert _wait(lambda: all_up(prometheus), 60), httpx.get(f"{prometheus}/api/v1/targets", timeout=5).text
        up_at = datetime.now(UTC)
        assert _wait(lambda: evaluated_since(prometheus, up_at), 60), "the rules were not evaluated again"

        headers = {"Authorization": f"Bearer {shown['API key']}"}
        for i in range(SENDS):
            body = {
                "personalizations": [
                    {"to": [{"email": f"reader{i}@example.com"}], "cc": [{"email": "cc@example.com"}]}
                ],
                "from": {"email": shown["Sender"]},
                "subject": f"quiet stack {i}",
                "content": [{"type": "text/plain", "value": "hello"}],
            }
            sent = httpx.post(f"{shown['API']}/v3/mail/send", json=body, headers=headers, timeout=10)
            assert sent.status_code == 202, sent.text
        mailbox = Path(shown["Mailbox"])
        assert _wait(lambda: len(list(mailbox.glob("*.eml"))) >= SENDS, 60), run.stderr()[-3000:]
        signatures = "sum(scaisend_smtp_dkim_signing_duration_seconds_count)"
        assert _wait(lambda: instant(prometheus, signatures) >= SENDS, 60), "Prometheus never scraped the signatures"

        deadline = time.monotonic() + QUIET_SECONDS
        evaluations = 0
        while time.monotonic() < deadline:
            assert active_alerts(prometheus) == []
            evaluations += 1
            time.sleep(5)
        assert evaluations >= 6
        assert httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json() == []
        assert run.stop(signal.SIGINT) == 0
    finally:
        run.kill_leftovers()
