"""RED metrics under several uvicorn workers (issue "Observability" item 1): ``scaisend serve --workers 2`` shares
counters through prometheus-client's multiprocess files, so /metrics shows every request whichever worker answers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scaisend.settings import Settings
from tests.harness.processes import ROOT, SCAISEND, free_port, settings_env, wait_http

REQUESTS = 60


def health_count(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "scaisend_http_requests_total" and s.labels.get("route") == "/health"
    )


@pytest.mark.timeout(90)
def test_two_workers_report_the_sum(database: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = settings_env(database, API_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [*SCAISEND, "serve", "--workers", "2"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/ready", timeout=60)
        before = health_count(httpx.get(f"{base}/metrics", timeout=5).text)
        for _ in range(REQUESTS):  # fresh connections, so both workers answer some of them
            with httpx.Client() as client:
                client.get(f"{base}/health", timeout=5)
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", timeout=5, headers={"Connection": "close"}).text
            assert health_count(text) - before == REQUESTS
        writers = {path.stem.rsplit("_", 1)[-1] for path in tmp_path.glob("counter_*.db")}
        assert len(writers) == 2, f"expected both workers to count requests, files: {sorted(writers)}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
