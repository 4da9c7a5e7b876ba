"""Issue "Reputation as a signal", end to end: the real exporter process checks sending addresses and sender domains
against blocklist zones and DNS records served by the loopback DNS server, and a real Prometheus loaded with the
generated rules fires exactly the alerts that should fire: a listed address, a listed domain, and a DKIM record
changed while the exporter watches. A "query refused" answer only starts the hour-long wait of a ticket alert, and
healthy records fire nothing.

The two paging alerts' ``for`` (1m in production, covered by promtool in tests/alerts) is shortened here so the test
takes seconds; every other rule is the generated one. Nothing outside 127.0.0.1 is queried: the exporter's only
nameserver is the loopback server, and the sending addresses are configured."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from alerts.config import CONFIG
from alerts.rules import rule_groups
from scaisend.settings import Settings
from tests.factories.reputation import PublishedDomain, published_domain
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS
from tests.harness.processes import ROOT, SCAISEND, free_port, settings_env, stop_process, wait_http
from tests.harness.prometheus import LoopbackPrometheus

pytestmark = pytest.mark.timeout(180)

LISTED_IP, REFUSED_IP = "192.0.2.10", "192.0.2.11"
REPUTATION_ALERTS = {
    "ScaiSendBlocklisted",
    "ScaiSendDkimRecordBroken",
    "ScaiSendSpfRecordDrift",
    "ScaiSendDmarcRecordDrift",
    "ScaiSendDomainMxMissing",
    "ScaiSendBlocklistChecksFailing",
    "ScaiSendDnsChecksFailing",
}


@contextlib.contextmanager
def running_exporter(settings: Settings, workdir: Path) -> Iterator[int]:
    """``scaisend exporter`` as a process on a free port, with the reputation checks on; yields the port."""
    port = free_port()
    env = settings_env(settings, EXPORTER_PORT=str(port), METRICS_HOST="127.0.0.1")
    with (workdir / "exporter.log").open("wb") as log:  # the child keeps its own descriptor
        child = subprocess.Popen([*SCAISEND, "exporter"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=60)
        yield port
    finally:
        stop_process(child)


def prometheus_config(port: int, rules_file: Path) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "scaisend-exporter", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]},
        ],
        "rule_files": [str(rules_file)],
    }


def active_alerts(prometheus: LoopbackPrometheus) -> set[tuple[str, str, str]]:
    """(alertname, state, target or domain) of every pending or firing alert."""
    alerts = httpx.get(f"{prometheus.url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return {
        (a["labels"]["alertname"], a["state"], a["labels"].get("target") or a["labels"].get("domain", ""))
        for a in alerts
    }


async def test_listings_and_a_changed_dkim_record_fire_and_nothing_else(
    own_database: OwnDatabase, dns: LoopbackDNS, tmp_path: Path
) -> None:
    settings = own_database.settings.model_copy(
        update={
            "DNS_NAMESERVERS": dns.nameserver_setting,
            "REPUTATION_CHECKS_ENABLED": True,
            "REPUTATION_CHECK_INTERVAL": "2s",
            "REPUTATION_SENDING_IPS": f"{LISTED_IP},{REFUSED_IP}",
            "REPUTATION_IP_BLOCKLISTS": "zen.spamhaus.org",
            "REPUTATION_DOMAIN_BLOCKLISTS": "dbl.spamhaus.org",
        }
    )
    listed = await published_domain(own_database.maker, settings, dns)
    watched = await published_domain(own_database.maker, settings, dns)
    dns.add_a(f"{LISTED_IP.split('.')[3]}.2.0.192.zen.spamhaus.org", "127.0.0.2")
    dns.add_a(f"{REFUSED_IP.split('.')[3]}.2.0.192.zen.spamhaus.org", "127.255.255.254")  # "query refused"
    dns.add_a(f"{listed.domain}.dbl.spamhaus.org", "127.0.1.2")
    dns.add_mx(settings.BOUNCE_DOMAIN, f"mx.{settings.BOUNCE_DOMAIN}", ip="192.0.2.25")

    quick = dataclasses.replace(CONFIG, blocklisted_for="2s", dkim_record_for="2s")
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rule_groups(quick), sort_keys=False))

    with running_exporter(settings, tmp_path) as port:
        prometheus = LoopbackPrometheus(tmp_path, prometheus_config(port, rules_file))
        prometheus.start()
        try:
            await_alerts(prometheus, dns, listed.domain, watched, tmp_path)
        finally:
            prometheus.stop()


def await_alerts(
    prometheus: LoopbackPrometheus, dns: LoopbackDNS, listed_domain: str, watched: PublishedDomain, workdir: Path
) -> None:
    """The watched domain's DKIM record is good, then changed; then exactly the expected alerts fire."""
    dkim_ok = f'scaisend_domain_dns_ok{{domain="{watched.domain}",check="dkim"}}'
    prometheus.wait_until(lambda: [r["value"][1] for r in prometheus.query(dkim_ok)] == ["1"], 60, "DKIM ok")

    dns.remove(watched.dkim_host)
    dns.add_txt(watched.dkim_host, "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAchanged")

    expected = {
        ("ScaiSendBlocklisted", "firing", LISTED_IP),
        ("ScaiSendBlocklisted", "firing", listed_domain),
        ("ScaiSendDkimRecordBroken", "firing", watched.domain),
    }
    try:
        prometheus.wait_until(lambda: expected <= active_alerts(prometheus), 90, "the three alerts firing")
    except TimeoutError:
        raise AssertionError(
            f"active: {active_alerts(prometheus)}\nexporter: {(workdir / 'exporter.log').read_text()[-3000:]}"
        ) from None
    reputation = {a for a in active_alerts(prometheus) if a[0] in REPUTATION_ALERTS}
    # the refused address only waits out its hour (a ticket if it lasts); healthy records are not even pending
    assert reputation == expected | {("ScaiSendBlocklistChecksFailing", "pending", REFUSED_IP)}
    refused = prometheus.query(f'scaisend_blocklist_check_error{{target="{REFUSED_IP}"}}')
    assert [r["value"][1] for r in refused] == ["1"]
    assert prometheus.query(f'scaisend_blocklist_listed{{target="{REFUSED_IP}"}}') == []
