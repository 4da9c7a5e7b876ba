"""``/api/admin/domains`` (docs/identity.md, docs/domains.md, docs/compose.md, D14): codes, shapes, scopes and tenant isolation, with verification against
the loopback DNS server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.domains.conftest import publish
from tests.factories.tenants import TenantKey, make_key
from tests.harness.dns import LoopbackDNS
from tests.harness.isolation import assert_tenant_isolated

BASE = "/api/admin/domains"


async def create(
    client: httpx.AsyncClient, owner: TenantKey, domain: str = "mail.example.com", **fields: Any
) -> dict[str, Any]:
    response = await client.post(BASE, headers=owner.headers, json={"domain": domain, **fields})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class TestCreate:
    async def test_201_with_records_to_publish(self, domains_client: httpx.AsyncClient, tenant: TenantKey) -> None:
        data = await create(
            domains_client, tenant, "Mail.Example.com", dmarc_policy="quarantine", dmarc_rua_email="dmarc@example.com"
        )
        assert data["id"].startswith("dom_")
        assert data["domain"] == "mail.example.com"
        assert (data["verified"], data["is_active"], data["active_selector"], data["pending_selector"]) == (
            False,
            True,
            "scaisend",
            None,
        )
        assert data["last_verified_at"] is None
        assert data["created_at"].endswith("Z")
        records = {r["purpose"]: r for r in data["dns_records"]}
        assert set(records) == {"dkim", "spf", "dmarc"}
        assert records["dkim"]["host"] == "scaisend._domainkey.mail.example.com"
        assert records["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=MII")
        assert records["spf"] == {
            "type": "TXT",
            "host": "mail.example.com",
            "value": "v=spf1 a:mta.scaisend.test ~all",
            "purpose": "spf",
            "valid": False,
        }
        assert records["dmarc"]["value"] == "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"

    async def test_invalid_dmarc_policy_is_400(self, domains_client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await domains_client.post(
            BASE, headers=tenant.headers, json={"domain": "x.example.com", "dmarc_policy": "strict"}
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid DMARC policy: 'strict' (use one of: none, quarantine, reject)"}

    @pytest.mark.parametrize("domain", ["not a domain", "localhost", "a@b.com"])
    async def test_invalid_domain_is_400(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, domain: str
    ) -> None:
        response = await domains_client.post(BASE, headers=tenant.headers, json={"domain": domain})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Invalid domain name")

    async def test_duplicate_is_409(self, domains_client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await create(domains_client, tenant, "twice.example.com")
        response = await domains_client.post(BASE, headers=tenant.headers, json={"domain": "TWICE.example.com."})
        assert response.status_code == 409
        assert response.json() == {"detail": "Sender domain already exists: twice.example.com"}

    async def test_missing_domain_is_422(self, domains_client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await domains_client.post(BASE, headers=tenant.headers, json={"dmarc_policy": "none"})
        assert response.status_code == 422


class TestReadAndChange:
    async def test_get_list_patch_delete(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        b = await create(domains_client, tenant, "b.example.com")
        a = await create(domains_client, tenant, "a.example.com")
        await create(domains_client, other_tenant, "c.example.com")
        listed = await domains_client.get(BASE, headers=tenant.headers)
        assert listed.status_code == 200
        assert [d["domain"] for d in listed.json()["data"]] == ["a.example.com", "b.example.com"]

        got = await domains_client.get(f"{BASE}/{a['id']}", headers=tenant.headers)
        assert got.status_code == 200
        assert got.json()["data"]["dns_records"] == a["dns_records"]

        patched = await domains_client.patch(
            f"{BASE}/{a['id']}",
            headers=tenant.headers,
            json={"is_active": False, "dmarc_policy": "reject", "dmarc_rua_email": "rua@example.com"},
        )
        assert patched.status_code == 200
        data = patched.json()["data"]
        assert (data["is_active"], data["dmarc_policy"], data["dmarc_rua_email"]) == (
            False,
            "reject",
            "rua@example.com",
        )
        dmarc = next(r for r in data["dns_records"] if r["purpose"] == "dmarc")
        assert dmarc["value"] == "v=DMARC1; p=reject; rua=mailto:rua@example.com"

        kept = await domains_client.patch(f"{BASE}/{a['id']}", headers=tenant.headers, json={"is_active": True})
        assert kept.json()["data"]["dmarc_rua_email"] == "rua@example.com"
        cleared = await domains_client.patch(
            f"{BASE}/{a['id']}", headers=tenant.headers, json={"dmarc_rua_email": None}
        )
        assert cleared.json()["data"]["dmarc_rua_email"] is None
        assert cleared.json()["data"]["is_active"] is True

        bad = await domains_client.patch(f"{BASE}/{a['id']}", headers=tenant.headers, json={"dmarc_policy": "x"})
        assert bad.status_code == 400

        deleted = await domains_client.delete(f"{BASE}/{b['id']}", headers=tenant.headers)
        assert deleted.status_code == 204
        assert deleted.content == b""
        gone = await domains_client.get(f"{BASE}/{b['id']}", headers=tenant.headers)
        assert gone.status_code == 404
        assert gone.json() == {"detail": f"Sender domain not found: {b['id']}"}


class TestVerifyAndRotate:
    async def test_verify_reports_failing_records_then_passes(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, dns: LoopbackDNS
    ) -> None:
        domain = await create(domains_client, tenant, "verify.example.com")
        url = f"{BASE}/{domain['id']}/verify"
        publish(dns, domain, skip=("dkim",))
        failed = await domains_client.post(url, headers=tenant.headers)
        assert failed.status_code == 200
        data = failed.json()["data"]
        assert data["verified"] is False
        assert data["errors"] == [
            {
                "purpose": "dkim",
                "host": "scaisend._domainkey.verify.example.com",
                "message": "DKIM record scaisend._domainkey.verify.example.com: no TXT record found",
            }
        ]
        assert {r["purpose"]: r["valid"] for r in data["dns_records"]} == {"dkim": False, "spf": True, "dmarc": True}

        publish(dns, domain, skip=("spf", "dmarc"))
        for _ in range(2):  # idempotent
            passed = (await domains_client.post(url, headers=tenant.headers)).json()["data"]
            assert (passed["verified"], passed["errors"]) == (True, [])
            assert passed["last_verified_at"] is not None
        got = (await domains_client.get(f"{BASE}/{domain['id']}", headers=tenant.headers)).json()["data"]
        assert (got["verified"], got["dkim_verified"], got["spf_verified"], got["dmarc_verified"]) == (
            True,
            True,
            True,
            True,
        )

        dns.remove(f"_dmarc.{domain['domain']}")
        lost = (await domains_client.post(url, headers=tenant.headers)).json()["data"]
        assert lost["verified"] is False
        assert [e["purpose"] for e in lost["errors"]] == ["dmarc"]

    async def test_rotate_then_verify_switches_selector(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, dns: LoopbackDNS
    ) -> None:
        domain = await create(domains_client, tenant, "rotate.example.com")
        publish(dns, domain)
        await domains_client.post(f"{BASE}/{domain['id']}/verify", headers=tenant.headers)
        rotated = await domains_client.post(f"{BASE}/{domain['id']}/rotate-dkim", headers=tenant.headers)
        assert rotated.status_code == 200
        data = rotated.json()["data"]
        assert (data["active_selector"], data["pending_selector"], data["verified"]) == ("scaisend", "scaisend2", True)
        new_record = next(r for r in data["dns_records"] if r["purpose"] == "dkim_rotation")
        assert new_record["host"] == "scaisend2._domainkey.rotate.example.com"

        unchanged = (await domains_client.post(f"{BASE}/{domain['id']}/verify", headers=tenant.headers)).json()
        assert (unchanged["data"]["active_selector"], unchanged["data"]["verified"]) == ("scaisend", True)

        dns.add_txt(new_record["host"], new_record["value"])
        switched = (await domains_client.post(f"{BASE}/{domain['id']}/verify", headers=tenant.headers)).json()
        assert (switched["data"]["active_selector"], switched["data"]["pending_selector"]) == ("scaisend2", None)
        assert switched["data"]["verified"] is True
        dkim = [r for r in switched["data"]["dns_records"] if r["purpose"].startswith("dkim")]
        assert [(r["purpose"], r["value"], r["valid"]) for r in dkim] == [("dkim", new_record["value"], True)]


class TestAuth:
    async def test_without_credentials_is_401(self, domains_client: httpx.AsyncClient) -> None:
        response = await domains_client.get(BASE)
        assert response.status_code == 401
        assert response.json() == {"detail": "Missing Authorization header"}

    async def test_read_scope_cannot_write(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, domains_app: FastAPI
    ) -> None:
        domain = await create(domains_client, tenant, "scoped.example.com")
        reader = await make_key(domains_app.state.resources.maker, tenant.tenant_id, ["domains.read"])
        assert (await domains_client.get(BASE, headers=reader.headers)).status_code == 200
        assert (await domains_client.get(f"{BASE}/{domain['id']}", headers=reader.headers)).status_code == 200
        for method, path in [
            ("POST", BASE),
            ("POST", f"{BASE}/{domain['id']}/verify"),
            ("POST", f"{BASE}/{domain['id']}/rotate-dkim"),
            ("PATCH", f"{BASE}/{domain['id']}"),
            ("DELETE", f"{BASE}/{domain['id']}"),
        ]:
            response = await domains_client.request(
                method, path, headers=reader.headers, json={"domain": "new.example.com"} if path == BASE else {}
            )
            assert response.status_code == 403, (method, path)
            assert response.json() == {"detail": "Missing required scope: domains.write"}

    async def test_other_scopes_cannot_read(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, domains_app: FastAPI
    ) -> None:
        sender = await make_key(domains_app.state.resources.maker, tenant.tenant_id, ["mail.send"])
        response = await domains_client.get(BASE, headers=sender.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: domains.read"}


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/admin/domains/{domain_id}", None),
    ("POST", "/api/admin/domains/{domain_id}/verify", None),
    ("POST", "/api/admin/domains/{domain_id}/rotate-dkim", None),
    ("PATCH", "/api/admin/domains/{domain_id}", {"is_active": True}),
    ("DELETE", "/api/admin/domains/{domain_id}", None),
]


class TestTenantIsolation:
    @pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
    async def test_other_tenant_gets_404(
        self,
        domains_client: httpx.AsyncClient,
        tenant: TenantKey,
        other_tenant: TenantKey,
        method: str,
        path: str,
        body: Any,
    ) -> None:
        domain = await create(domains_client, tenant, "isolated.example.com")
        await assert_tenant_isolated(
            domains_client,
            method,
            path.format(domain_id=domain["id"]),
            owner=tenant.headers,
            other=other_tenant.headers,
            json=body,
        )

    def test_every_domain_route_with_an_id_is_listed(self, domains_app: FastAPI) -> None:
        # read from the OpenAPI document: app.routes holds opaque included-router objects on recent FastAPI
        paths = domains_app.openapi()["paths"]
        routes = {
            (method.upper(), path)
            for path, operations in paths.items()
            if path.startswith(f"{BASE}/{{")
            for method in operations
        }
        assert routes == {(m, p) for m, p, _ in ROUTES}

    async def test_list_shows_only_own_domains(
        self, domains_client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await create(domains_client, other_tenant, "theirs.example.com")
        assert (await domains_client.get(BASE, headers=tenant.headers)).json() == {"data": []}
