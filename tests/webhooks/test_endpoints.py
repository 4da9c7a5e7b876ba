"""``/v3/user/webhooks`` (docs/webhooks.md, D6, D7, D8): create, list, get, update, delete, rotate; scopes; 400s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.models import WebhookEndpoint
from scaisend.settings import Settings
from scaisend.webhooks.signing import signature_header, verify_signature
from tests.factories.tenants import TenantKey, make_key, make_tenant
from tests.factories.webhooks import deliveries, make_endpoint, record
from tests.harness.dns import LoopbackDNS

URL = "https://hooks.example.test/scaisend"


async def create(client: httpx.AsyncClient, owner: TenantKey, **body: object) -> httpx.Response:
    return await client.post(
        "/v3/user/webhooks", headers=owner.headers, json={"url": URL, "enabled_events": ["*"], **body}
    )


class TestCreate:
    async def test_returns_the_secret_once(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await create(client, tenant, enabled_events=["delivered", "bounce"])
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["id"].startswith("wh_")
        assert body["signing_secret"].startswith("whsec_")
        assert body["url"] == URL
        assert body["enabled_events"] == ["delivered", "bounce"]
        assert body["enabled"] is True
        assert body["failure_count"] == 0
        assert body["created_at"].endswith("Z")
        shown = await client.get(f"/v3/user/webhooks/{body['id']}", headers=tenant.headers)
        assert shown.status_code == 200
        assert "signing_secret" not in shown.json()
        assert body["signing_secret"] not in shown.text

    @pytest.mark.parametrize(
        ("events", "message"),
        [
            (["delivered", "exploded"], "Unknown event type(s) in enabled_events: exploded"),
            (["spamreport"], "Unknown event type(s) in enabled_events: spamreport"),
            ([], "enabled_events must list event types"),
            (["*", "open"], '"*" cannot be combined'),
        ],
    )
    async def test_bad_event_names_are_400(
        self, client: httpx.AsyncClient, tenant: TenantKey, events: list[str], message: str
    ) -> None:
        response = await create(client, tenant, enabled_events=events)
        assert response.status_code == 400
        assert message in response.json()["detail"]

    @pytest.mark.parametrize("url", ["ftp://example.com/x", "not-a-url", "https://"])
    async def test_bad_urls_are_400(self, client: httpx.AsyncClient, tenant: TenantKey, url: str) -> None:
        response = await create(client, tenant, url=url)
        assert response.status_code == 400
        assert "URL" in response.json()["detail"]

    async def test_oauth_fields_come_together(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        partial = await create(client, tenant, oauth_client_id="id", oauth_client_secret="secret")
        assert partial.status_code == 400
        assert "must be given together" in partial.json()["detail"]
        full = await create(
            client,
            tenant,
            oauth_client_id="id",
            oauth_client_secret="secret",
            oauth_token_url="https://auth.example.test/token",
        )
        assert full.status_code == 201
        assert full.json()["oauth_client_id"] == "id"
        assert full.json()["oauth_token_url"] == "https://auth.example.test/token"
        assert "oauth_client_secret" not in full.json()
        assert "secret" not in full.json().values()


class TestList:
    async def test_pages_and_filters(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        owner = await make_tenant(app.state.resources.maker)
        ids = [(await create(client, owner)).json()["id"] for _ in range(3)]
        await client.patch(f"/v3/user/webhooks/{ids[1]}", headers=owner.headers, json={"enabled": False})
        everything = (await client.get("/v3/user/webhooks", headers=owner.headers)).json()
        assert everything["total"] == 3
        assert [w["id"] for w in everything["webhooks"]] == ids
        page = (await client.get("/v3/user/webhooks?page=2&page_size=2", headers=owner.headers)).json()
        assert (page["total"], [w["id"] for w in page["webhooks"]]) == (3, [ids[2]])
        active = (await client.get("/v3/user/webhooks?is_active=true", headers=owner.headers)).json()
        assert (active["total"], [w["id"] for w in active["webhooks"]]) == (2, [ids[0], ids[2]])
        inactive = (await client.get("/v3/user/webhooks?is_active=false", headers=owner.headers)).json()
        assert [w["id"] for w in inactive["webhooks"]] == [ids[1]]

    async def test_page_size_is_bounded(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        for query in ("page_size=0", "page_size=101", "page=0"):
            assert (await client.get(f"/v3/user/webhooks?{query}", headers=tenant.headers)).status_code == 422

    async def test_another_tenant_sees_none(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await create(client, tenant)
        listed = (await client.get("/v3/user/webhooks", headers=other_tenant.headers)).json()
        assert listed == {"webhooks": [], "total": 0}


class TestUpdate:
    async def test_changes_url_and_events(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        webhook_id = (await create(client, tenant)).json()["id"]
        response = await client.patch(
            f"/v3/user/webhooks/{webhook_id}",
            headers=tenant.headers,
            json={"url": "https://other.example.test/in", "enabled_events": ["open"]},
        )
        assert response.status_code == 200
        assert (response.json()["url"], response.json()["enabled_events"]) == (
            "https://other.example.test/in",
            ["open"],
        )
        bad = await client.patch(
            f"/v3/user/webhooks/{webhook_id}", headers=tenant.headers, json={"enabled_events": ["opened"]}
        )
        assert bad.status_code == 400

    async def test_re_enabling_clears_the_auto_disable(
        self, client: httpx.AsyncClient, app: FastAPI, tenant: TenantKey
    ) -> None:
        webhook_id = (await create(client, tenant)).json()["id"]
        async with app.state.resources.maker() as session, session.begin():
            row = await session.get(WebhookEndpoint, webhook_id)
            assert row is not None
            row.enabled, row.failure_count, row.disabled_at = False, 10, datetime.now(UTC)
        shown = (await client.get(f"/v3/user/webhooks/{webhook_id}", headers=tenant.headers)).json()
        assert (shown["enabled"], shown["failure_count"]) == (False, 10)
        assert shown["disabled_at"] is not None
        response = await client.patch(f"/v3/user/webhooks/{webhook_id}", headers=tenant.headers, json={"enabled": True})
        assert response.status_code == 200
        body = response.json()
        assert (body["enabled"], body["failure_count"], body["disabled_at"]) == (True, 0, None)


class TestDelete:
    async def test_deletes_the_endpoint_and_its_deliveries(
        self, client: httpx.AsyncClient, app: FastAPI, database: Settings, tenant: TenantKey
    ) -> None:
        resources = app.state.resources
        webhook_id, _ = await make_endpoint(resources.maker, database, tenant.tenant_id, URL)
        await record(
            resources.maker, resources.redis, resources.queues, tenant.tenant_id, "delivered", datetime.now(UTC)
        )
        assert len(await deliveries(resources.maker, tenant.tenant_id)) == 1
        response = await client.delete(f"/v3/user/webhooks/{webhook_id}", headers=tenant.headers)
        assert response.status_code == 204
        assert (await client.get(f"/v3/user/webhooks/{webhook_id}", headers=tenant.headers)).status_code == 404
        assert await deliveries(resources.maker, tenant.tenant_id) == []


class TestRotate:
    async def test_new_secret_replaces_the_old(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        created = (await create(client, tenant)).json()
        response = await client.post(f"/v3/user/webhooks/{created['id']}/signing_secret", headers=tenant.headers)
        assert response.status_code == 200
        new_secret = response.json()["signing_secret"]
        assert new_secret.startswith("whsec_")
        assert new_secret != created["signing_secret"]
        body = b'{"a":1}'
        assert not verify_signature(created["signing_secret"], signature_header(new_secret, 1, body), body, 1)

    async def test_unknown_webhook_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/user/webhooks/wh_missing/signing_secret", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "Webhook not found: wh_missing"}


class TestScopes:
    async def test_read_and_write_scopes(self, client: httpx.AsyncClient, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        reader = await make_key(maker, tenant.tenant_id, ["webhooks.read"])
        nobody = await make_key(maker, tenant.tenant_id, ["mail.send"])
        webhook_id = (await create(client, tenant)).json()["id"]
        assert (await client.get("/v3/user/webhooks", headers=reader.headers)).status_code == 200
        assert (await client.get(f"/v3/user/webhooks/{webhook_id}", headers=reader.headers)).status_code == 200
        denied = await create(client, reader)
        assert denied.status_code == 403
        assert denied.json() == {"detail": "Missing required scope: webhooks.write"}
        path = f"/v3/user/webhooks/{webhook_id}"
        for method, url in (("PATCH", path), ("DELETE", path), ("POST", f"{path}/signing_secret")):
            response = await client.request(method, url, headers=reader.headers, json={})
            assert response.status_code == 403, (method, url)
        listed = await client.get("/v3/user/webhooks", headers=nobody.headers)
        assert listed.json() == {"detail": "Missing required scope: webhooks.read"}
        assert (await client.get("/v3/user/webhooks")).status_code == 401


@pytest.fixture(scope="module")
async def strict_client(database: Settings, dns_server: LoopbackDNS) -> AsyncIterator[httpx.AsyncClient]:
    """An API as production runs it: https only, private networks refused, DNS through the loopback server."""
    strict = create_app(
        database.model_copy(
            update={
                "ENVIRONMENT": "production",
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": False,
                "DNS_NAMESERVERS": dns_server.nameserver_setting,
            }
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://testserver") as http:
        yield http
    await strict.state.resources.aclose()


class TestUrlSafety:
    @pytest.mark.parametrize(
        "url",
        [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/hook",
            "https://127.0.0.1:8443/",
            "https://localhost/hook",
        ],
    )
    async def test_private_destinations_are_refused(
        self, strict_client: httpx.AsyncClient, tenant: TenantKey, url: str
    ) -> None:
        response = await create(strict_client, tenant, url=url)
        assert response.status_code == 400
        assert "non-public address" in response.json()["detail"]

    async def test_a_name_resolving_privately_is_refused(
        self, strict_client: httpx.AsyncClient, tenant: TenantKey, dns: LoopbackDNS
    ) -> None:
        dns.add_a("internal.example.test", "10.0.0.1")
        response = await create(strict_client, tenant, url="https://internal.example.test/hook")
        assert response.status_code == 400
        assert response.json()["detail"] == ("Webhook URL points at a non-public address (10.0.0.1: private network)")

    async def test_plain_http_is_refused_in_production(
        self, strict_client: httpx.AsyncClient, tenant: TenantKey, dns: LoopbackDNS
    ) -> None:
        dns.add_a("hooks.example.test", "93.184.216.34")
        assert (await create(strict_client, tenant, url="http://hooks.example.test/")).json() == {
            "detail": "Webhook URL must use https"
        }
        assert (await create(strict_client, tenant, url="https://hooks.example.test/")).status_code == 201

    async def test_update_is_checked_too(
        self, strict_client: httpx.AsyncClient, tenant: TenantKey, dns: LoopbackDNS
    ) -> None:
        dns.add_a("hooks.example.test", "93.184.216.34")
        webhook_id = (await create(strict_client, tenant, url="https://hooks.example.test/")).json()["id"]
        response = await strict_client.patch(
            f"/v3/user/webhooks/{webhook_id}", headers=tenant.headers, json={"url": "https://169.254.169.254/"}
        )
        assert response.status_code == 400

    async def test_the_private_network_setting_allows_them(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        assert (await create(client, tenant, url="http://10.0.0.1/hook")).status_code == 201
