"""Issue "Observability", end to end: the real API, worker, SMTP service and exporter as processes on MariaDB and
Redis, a scriptable MX, and a real Prometheus scraping them with the generated scrape config and rules. After
traffic with bounces, every dashboard query returns data and the tenant bounce-rate rule's expression is true for
the bouncing tenant and false for the clean one (its ``for`` is covered by promtool in tests/alerts)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.config import Config
from alerts.rules import rule_groups
from dashboards.generate import all_dashboards
from deploy.prometheus import host_config
from scaisend.db.session import unit_of_work
from scaisend.domains.service import add_domain, mark_verified
from scaisend.processes import PROCESSES
from tests.factories.tenants import TenantKey, make_tenant
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ScriptableMX
from tests.harness.processes import ROOT
from tests.harness.prometheus import LoopbackPrometheus
from tests.harness.stack import Stack, start_stack

pytestmark = pytest.mark.timeout(240)

BOUNCING_RECIPIENTS = 12
CLEAN_RECIPIENTS = 12
MX_HOST = "mx.monitoring.test"


def prometheus_config(stack: Stack) -> dict[str, Any]:
    """The generated host scrape config (job names, paths from the catalogue) with this run's ports and short
    intervals; the generated rules file beside it."""
    config = host_config()
    # Short intervals so the test is quick, long enough that a busy machine's exporter scrape (MySQL read of every
    # test tenant's row) finishes within its timeout.
    config["global"] = {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"}
    config.pop("alerting", None)
    by_job = {p.job: p for p in PROCESSES}
    for job in config["scrape_configs"]:
        job.pop("scrape_interval", None)
        job.pop("scrape_timeout", None)
        process = by_job[job["job_name"]]
        if process.name == "exporter":
            job.update(scrape_interval="5s", scrape_timeout="5s")
        job["static_configs"] = [{"targets": [f"127.0.0.1:{stack.ports[process.name]}"]}]
    config["rule_files"] = [str(ROOT / "alerts" / "out" / "rules.yaml")]
    return config


REPUTATION_METRICS = ("scaisend_blocklist_", "scaisend_domain_dns_")


def dashboard_queries() -> list[tuple[str, str, str]]:
    found = []
    for uid, dashboard in all_dashboards().items():
        for panel in dashboard.get("panels", []):
            if (panel.get("datasource") or {}).get("type") == "loki":
                continue  # the request logs panels query Loki (LogQL), not Prometheus
            if any(metric in str(panel.get("targets")) for metric in REPUTATION_METRICS):
                continue  # the harness turns the reputation monitor off; tests/e2e/test_reputation_alerts.py has them
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found.append((uid, panel.get("title", "?"), target["expr"]))
    return found


def concrete(expr: str) -> str:
    """A dashboard query with Grafana's variables filled in as Grafana would for "All" and a 1m rate window."""
    return re.sub(r"\$__rate_interval|\$__interval", "1m", expr).replace('"$tenant"', '".*"')


@pytest.fixture
async def stack(
    own_database: OwnDatabase, dns_server: LoopbackDNS, tmp_path: Path
) -> AsyncIterator[tuple[Stack, ScriptableMX]]:
    mx = ScriptableMX()
    await mx.start()
    for domain in ("bounce.monitoring.test", "clean.monitoring.test"):
        dns_server.add_mx(domain, MX_HOST, ip="127.0.0.1")
    for i in range(BOUNCING_RECIPIENTS):
        mx.script(f"gone{i}@bounce.monitoring.test", "550 5.1.1 User unknown")
    database = own_database.settings
    settings = database.model_copy(
        update={
            "DNS_NAMESERVERS": dns_server.nameserver_setting,
            "SMTP_PORT": mx.port,
            "REDIS_QUEUE_PREFIX": f"{database.REDIS_QUEUE_PREFIX}mon{uuid.uuid4().hex[:6]}:",
            "DATABASE_STATEMENT_TIMEOUT_MS": 4500,
        }
    )
    running = await asyncio.to_thread(start_stack, settings, tmp_path)
    try:
        yield running, mx
    finally:
        await asyncio.to_thread(running.stop)
        await mx.stop()
        for domain in ("bounce.monitoring.test", "clean.monitoring.test"):
            dns_server.remove(domain)


async def verified_sender(db: OwnDatabase, tenant: TenantKey, domain: str) -> str:
    async with unit_of_work(db.maker) as session:
        row = await add_domain(session, db.settings, tenant.tenant_id, domain)
        await mark_verified(session, row)
    return f"news@{domain}"


def send(stack: Stack, tenant: TenantKey, sender: str, recipients: list[str]) -> None:
    with httpx.Client(base_url=stack.api, headers=tenant.headers, timeout=30) as client:
        for rcpt in recipients:
            body = {
                "personalizations": [{"to": [{"email": rcpt}]}],
                "from": {"email": sender},
                "subject": "Monitoring",
                "content": [{"type": "text/plain", "value": "hello"}],
            }
            response = client.post("/v3/mail/send", json=body)
            assert response.status_code == 202, response.text


async def test_dashboards_have_data_and_bounce_rule_separates_tenants(
    stack: tuple[Stack, ScriptableMX], own_database: OwnDatabase, tmp_path: Path
) -> None:
    running, mx = stack
    bouncy = await make_tenant(own_database.maker)
    clean = await make_tenant(own_database.maker)
    bouncy_sender = await verified_sender(own_database, bouncy, f"b{uuid.uuid4().hex[:6]}.example")
    clean_sender = await verified_sender(own_database, clean, f"c{uuid.uuid4().hex[:6]}.example")
    prometheus = LoopbackPrometheus(tmp_path, prometheus_config(running))
    await asyncio.to_thread(prometheus.start)
    try:
        await asyncio.to_thread(check_stack, running, prometheus, mx, bouncy, bouncy_sender, clean, clean_sender)
    finally:
        await asyncio.to_thread(prometheus.stop)


def check_stack(
    running: Stack,
    prometheus: LoopbackPrometheus,
    mx: ScriptableMX,
    bouncy: TenantKey,
    bouncy_sender: str,
    clean: TenantKey,
    clean_sender: str,
) -> None:
    send(running, bouncy, bouncy_sender, [f"gone{i}@bounce.monitoring.test" for i in range(BOUNCING_RECIPIENTS)])
    send(running, clean, clean_sender, [f"ok{i}@clean.monitoring.test" for i in range(CLEAN_RECIPIENTS)])

    def tenant_value(stat: str, tenant: TenantKey) -> float:
        rows = prometheus.query(f'scaisend_tenant_{stat}_today{{tenant="{tenant.tenant_id}"}}')
        return float(rows[0]["value"][1]) if rows else 0.0

    try:
        prometheus.wait_until(
            lambda: (
                tenant_value("bounces", bouncy) >= BOUNCING_RECIPIENTS
                and tenant_value("delivered", clean) >= CLEAN_RECIPIENTS
            ),
            120,
            "bounces and deliveries in the exporter's gauges",
        )
    except TimeoutError:
        seen = {
            "bounces": tenant_value("bounces", bouncy),
            "delivered": tenant_value("delivered", clean),
            "exporter_up": prometheus.query("scaisend_exporter_up"),
            "mx_received": len(mx.messages),
        }
        pytest.fail(f"gauges not reached: {seen}\n{running.trouble()}")
    every_job_up = {p.job: "1" for p in PROCESSES}
    prometheus.wait_until(
        lambda: {r["metric"]["job"]: r["value"][1] for r in prometheus.query("up")} == every_job_up,
        30,
        "every target up",
    )
    for process in PROCESSES:  # what each real process serves is clean for promtool (issue item 1)
        body = httpx.get(f"http://127.0.0.1:{running.ports[process.name]}{process.metrics_path}", timeout=10).text
        lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True, check=False)
        assert lint.returncode == 0, f"{process.name}: {lint.stdout}{lint.stderr}"
        assert (lint.stdout + lint.stderr).strip() == "", f"{process.name}: {lint.stdout}{lint.stderr}"
    loaded = {g["name"] for g in prometheus.rule_groups()}
    assert loaded == {g["name"] for g in rule_groups()["groups"]}

    empty: list[str] = []

    def every_query_has_data() -> bool:
        empty.clear()
        empty.extend(
            f"{uid} / {title}: {expr}"
            for uid, title, expr in dashboard_queries()
            if not prometheus.query(concrete(expr))
        )
        return not empty

    try:
        prometheus.wait_until(every_query_has_data, 60, "data for every dashboard query")
    except TimeoutError:
        pytest.fail("dashboard queries without data:\n" + "\n".join(empty))

    config = Config(tenant_bounce_min_requests=BOUNCING_RECIPIENTS)
    (expr,) = [
        rule["expr"]
        for group in rule_groups(config)["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "ScaiSendTenantBounceRateHigh"
    ]
    firing = {r["metric"]["tenant"] for r in prometheus.query(expr)}
    assert bouncy.tenant_id in firing
    assert clean.tenant_id not in firing
    assert len(mx.messages) >= CLEAN_RECIPIENTS
