"""``scaisend domains add|show|verify`` as real processes: the id is the last stdout line, ``--json`` prints the
domain, and ``verify`` asks the loopback DNS server and exits 1 until the records are published."""

from __future__ import annotations

import json

import httpx

from scaisend.settings import Settings
from tests.domains.conftest import publish
from tests.factories.tenants import TenantKey
from tests.harness.dns import LoopbackDNS
from tests.harness.processes import run_cli


def last_line(stdout: str) -> str:
    return stdout.strip().splitlines()[-1]


class TestDomainsCli:
    async def test_add_show_verify(
        self, dns_settings: Settings, tenant: TenantKey, dns: LoopbackDNS, domains_client: httpx.AsyncClient
    ) -> None:
        added = run_cli(
            dns_settings,
            "domains",
            "add",
            "cli.example.com",
            "--tenant",
            tenant.tenant_id,
            "--dmarc-policy",
            "reject",
            "--dmarc-rua",
            "agg@example.com",
        )
        assert added.returncode == 0, added.stderr
        domain_id = last_line(added.stdout)
        assert domain_id.startswith("dom_")
        assert "scaisend._domainkey.cli.example.com TXT v=DKIM1; k=rsa; p=MII" in added.stderr
        assert "_dmarc.cli.example.com TXT v=DMARC1; p=reject; rua=mailto:agg@example.com" in added.stderr

        via_api = await domains_client.get(f"/api/admin/domains/{domain_id}", headers=tenant.headers)
        assert via_api.status_code == 200

        shown = run_cli(dns_settings, "domains", "show", "cli.example.com", "--tenant", tenant.tenant_id, "--json")
        assert shown.returncode == 0, shown.stderr
        data = json.loads(shown.stdout)
        assert data["id"] == domain_id
        assert data["dns_records"] == via_api.json()["data"]["dns_records"]

        publish(dns, data, skip=("dkim",))
        failing = run_cli(dns_settings, "domains", "verify", domain_id, "--tenant", tenant.tenant_id)
        assert failing.returncode == 1
        assert "error: DKIM record scaisend._domainkey.cli.example.com: no TXT record found" in failing.stdout
        assert last_line(failing.stdout) == "cli.example.com: not verified"

        publish(dns, data, skip=("spf", "dmarc"))
        passing = run_cli(dns_settings, "domains", "verify", "cli.example.com", "--tenant", tenant.tenant_id, "--json")
        assert passing.returncode == 0, passing.stdout + passing.stderr
        assert json.loads(passing.stdout)["errors"] == []
        stored = (await domains_client.get(f"/api/admin/domains/{domain_id}", headers=tenant.headers)).json()
        assert stored["data"]["verified"] is True

    def test_add_json_and_errors(self, dns_settings: Settings, tenant: TenantKey) -> None:
        added = run_cli(dns_settings, "domains", "add", "json.example.com", "--tenant", tenant.tenant_id, "--json")
        assert added.returncode == 0, added.stderr
        body = json.loads(added.stdout)
        assert body["domain"] == "json.example.com"
        assert {r["purpose"] for r in body["dns_records"]} == {"dkim", "spf", "dmarc"}

        duplicate = run_cli(dns_settings, "domains", "add", "json.example.com", "--tenant", tenant.tenant_id)
        assert duplicate.returncode == 1
        assert duplicate.stderr.strip() == "scaisend: Sender domain already exists: json.example.com"
        bad_policy = run_cli(
            dns_settings, "domains", "add", "p.example.com", "--tenant", tenant.tenant_id, "--dmarc-policy", "strict"
        )
        assert bad_policy.returncode == 1
        assert "Invalid DMARC policy" in bad_policy.stderr
        missing = run_cli(dns_settings, "domains", "show", "nope.example.com", "--tenant", tenant.tenant_id)
        assert missing.returncode == 1
        assert missing.stderr.strip() == "scaisend: Sender domain not found: nope.example.com"
        no_tenant = run_cli(dns_settings, "domains", "add", "t.example.com", "--tenant", "tnt_missing")
        assert no_tenant.returncode == 1
        assert no_tenant.stderr.strip() == "scaisend: Tenant not found: tnt_missing"
