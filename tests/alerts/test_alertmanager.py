"""Alertmanager configuration: amtool accepts it, routes every alert to the right receiver, and a real Alertmanager on
loopback delivers to the webhook receivers and applies the inhibit rules (docs/deploy.md, docs/observability.md)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.alertmanager import alertmanager_config, inhibit_rules
from alerts.config import CONFIG
from alerts.rules import alerts, service_alert_names
from scaisend import processes
from tests.alerts.tools import ALERTMANAGER, AMTOOL, needs_alertmanager, needs_amtool, run

RECEIVER_BY_SEVERITY = {"critical": CONFIG.pager_receiver, "warning": CONFIG.ticket_receiver}
ROUTE_CASES: list[tuple[dict[str, str], str]] = [
    *(({"alertname": a.name, "severity": a.severity}, RECEIVER_BY_SEVERITY[a.severity]) for a in alerts()),
    ({"alertname": "ScaiSendTenantBounceRateHigh", "severity": "warning", "tenant": "acme"}, CONFIG.ticket_receiver),
    ({"alertname": "SomethingElse", "severity": "info"}, CONFIG.ticket_receiver),
    ({"alertname": "SomethingElse"}, CONFIG.ticket_receiver),
]


def routes_test(config_file: Path, labels: dict[str, str], receiver: str) -> subprocess.CompletedProcess[str]:
    pairs = [f"{k}={v}" for k, v in labels.items()]
    return run(
        AMTOOL, "config", "routes", "test", f"--config.file={config_file}", f"--verify.receivers={receiver}", *pairs
    )


class TestStatic:
    @needs_amtool
    def test_amtool_check_config(self, alertmanager_file: Path) -> None:
        result = run(AMTOOL, "check-config", alertmanager_file)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"{len(inhibit_rules())} inhibit rules" in result.stdout

    @needs_amtool
    @pytest.mark.parametrize(
        ("labels", "receiver"), ROUTE_CASES, ids=lambda v: v.get("alertname", "") if isinstance(v, dict) else v
    )
    def test_route(self, alertmanager_file: Path, labels: dict[str, str], receiver: str) -> None:
        result = routes_test(alertmanager_file, labels, receiver)
        assert result.returncode == 0, result.stdout + result.stderr

    @needs_amtool
    def test_wrong_route_is_detected(self, alertmanager_file: Path) -> None:
        labels = {"alertname": "ScaiSendApiDown", "severity": "critical"}
        assert routes_test(alertmanager_file, labels, CONFIG.ticket_receiver).returncode != 0

    def test_inhibitors_name_existing_alerts(self) -> None:
        names = {a.name for a in alerts()}
        for alert in alerts():
            for inhibitor in alert.inhibited_by:
                assert set(inhibitor.sources) <= names
                assert alert.name not in inhibitor.sources

    def test_every_service_down_silences_something(self) -> None:
        sources = " ".join(rule["source_matchers"][0] for rule in inhibit_rules())
        for process in processes.PROCESSES:
            assert all(name in sources for name in service_alert_names(process))

    def test_receivers_are_placeholders_by_default(self) -> None:
        urls = [c["url"] for r in alertmanager_config()["receivers"] for c in r["webhook_configs"]]
        assert urls
        assert all(".invalid/" in url for url in urls)


# --- live Alertmanager on loopback ----------------------------------------------------------------------------------
@dataclass
class WebhookSink:
    """A loopback HTTP server recording every JSON body POSTed to it, by path."""

    server: ThreadingHTTPServer
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def alertnames(self, path: str) -> set[str]:
        return {a["labels"]["alertname"] for p, body in list(self.received) if p == path for a in body["alerts"]}


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture(scope="module")
def sink() -> Iterator[WebhookSink]:
    received: list[tuple[str, dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield WebhookSink(server, received)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(method: str, url: str, payload: Any = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def alertmanager_url(sink: WebhookSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if ALERTMANAGER is None:
        pytest.skip("alertmanager not installed: apt-get install -y prometheus-alertmanager")
    workdir = tmp_path_factory.mktemp("alertmanager")
    config = alertmanager_config(
        pager_url=f"{sink.url}/pager", ticket_url=f"{sink.url}/ticket", group_wait="1s", group_interval="1s"
    )
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with (workdir / "alertmanager.log").open("w") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={workdir / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return process.poll() is not None  # stop waiting if it died

    try:
        assert wait_for(ready), "alertmanager did not become ready"
        assert process.poll() is None, (workdir / "alertmanager.log").read_text()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def post_alert(url: str, alertname: str, severity: str, **labels: str) -> None:
    alert = {
        "labels": {"alertname": alertname, "severity": severity, **labels},
        "annotations": {"summary": "Test alert.", "description": "Posted by the test."},
        "startsAt": datetime.now(UTC).isoformat(),
    }
    http_json("POST", f"{url}/api/v2/alerts", [alert])


@needs_alertmanager
class TestLive:
    def test_critical_pages_and_warning_opens_a_ticket(self, alertmanager_url: str, sink: WebhookSink) -> None:
        post_alert(alertmanager_url, "ScaiSendApiDown", "critical", job="scaisend-api", instance="api-1:8000")
        post_alert(alertmanager_url, "ScaiSendTenantBounceRateHigh", "warning", tenant="acme")
        assert wait_for(lambda: "ScaiSendApiDown" in sink.alertnames("/pager")), sink.received
        assert wait_for(lambda: "ScaiSendTenantBounceRateHigh" in sink.alertnames("/ticket")), sink.received
        assert "ScaiSendApiDown" not in sink.alertnames("/ticket")
        assert "ScaiSendTenantBounceRateHigh" not in sink.alertnames("/pager")
        bodies = [body for path, body in sink.received if path == "/ticket"]
        assert any(
            body["groupLabels"] == {"alertname": "ScaiSendTenantBounceRateHigh", "tenant": "acme"} for body in bodies
        )

    def test_service_down_inhibits_its_derived_alerts(self, alertmanager_url: str, sink: WebhookSink) -> None:
        post_alert(alertmanager_url, "ScaiSendWorkerDown", "critical", job="scaisend-worker", instance="w:9101")
        post_alert(alertmanager_url, "ScaiSendQueueDepthHigh", "critical", queue="email:process")
        assert wait_for(lambda: "ScaiSendWorkerDown" in sink.alertnames("/pager")), sink.received

        def state(alertname: str) -> dict[str, Any]:
            found = http_json("GET", f"{alertmanager_url}/api/v2/alerts?filter=alertname%3D{alertname}")
            return found[0]["status"] if found else {}

        assert wait_for(lambda: state("ScaiSendQueueDepthHigh").get("state") == "suppressed")
        assert state("ScaiSendQueueDepthHigh")["inhibitedBy"]
        assert state("ScaiSendWorkerDown")["state"] == "active"
        time.sleep(2.5)  # two more group intervals: an uninhibited alert would have been sent by now
        assert "ScaiSendQueueDepthHigh" not in sink.alertnames("/pager")
