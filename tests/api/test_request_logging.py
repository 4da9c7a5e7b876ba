"""D19: every API log line is JSON and carries the request_id that the response's X-Request-ID carries; the id is
honoured when sent and returned on errors too. Runs the real ``scaisend serve`` process and reads its stdout."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from scaisend.metrics import UNMATCHED_ROUTE
from scaisend.settings import Settings
from tests.factories.tenants import TenantKey
from tests.harness.processes import ROOT, SCAISEND, free_port, settings_env, wait_http

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.timeout(150)
def test_every_log_line_is_json_with_the_request_id(database: Settings, tenant: TenantKey) -> None:
    port = free_port()
    env = settings_env(database, API_PORT=str(port))
    proc = subprocess.Popen(
        [*SCAISEND, "serve"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/health", timeout=90)  # a busy machine imports slowly
        sent = {
            "ok": httpx.get(f"{base}/v3/scopes", headers=tenant.headers),
            "honoured": httpx.get(f"{base}/health", headers={"X-Request-ID": "req-from-client-42"}),
            "traced": httpx.get(f"{base}/health", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}),
            "unauthorised": httpx.get(f"{base}/v3/api_keys"),
            "not_found": httpx.get(f"{base}/nope"),
            "invalid": httpx.post(f"{base}/v3/api_keys", headers=tenant.headers, json={"name": ""}),
        }
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    assert sent["honoured"].headers["x-request-id"] == "req-from-client-42"
    for response in sent.values():
        assert response.headers.get("x-request-id"), response
    lines = [line for line in output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any non-JSON line
    assert all({"timestamp", "level", "message", "service"} <= r.keys() for r in records)
    request_lines = {r["request_id"]: r for r in records if r.get("message") == "request"}
    for response in sent.values():
        rid = response.headers["x-request-id"]
        assert rid in request_lines, f"no log line for request {rid}"
        assert request_lines[rid]["status"] == response.status_code
    assert request_lines[sent["ok"].headers["x-request-id"]]["tenant_id"] == tenant.tenant_id
    assert request_lines[sent["not_found"].headers["x-request-id"]]["route"] == UNMATCHED_ROUTE
    # D57: the caller's trace is logged; a request without one starts its own
    assert request_lines[sent["traced"].headers["x-request-id"]]["trace_id"] == TRACE
    started = request_lines[sent["ok"].headers["x-request-id"]]["trace_id"]
    assert len(started) == 32
    assert started != TRACE
