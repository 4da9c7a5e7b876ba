"""/v3/api_keys and /v3/scopes, and the documented 401/403 bodies (docs/sending.md, D3, D24)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.db.session import unit_of_work
from scaisend.ids import API_KEY_RE
from scaisend.models import ApiKey, Tenant
from tests.factories.tenants import TenantKey, make_key


class TestAuthentication:
    async def test_missing_header_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v3/scopes")
        assert response.status_code == 401
        assert response.json() == {"detail": "Missing Authorization header"}

    async def test_unknown_key_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v3/scopes", headers={"Authorization": "Bearer sg_live_" + "0" * 32})
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}

    async def test_garbage_credential_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v3/scopes", headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}

    async def test_revoked_key_is_401_on_next_request(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        victim = await make_key(app.state.resources.maker, tenant.tenant_id, ["stats.read"])
        assert (await client.get("/v3/scopes", headers=victim.headers)).status_code == 200
        revoke = await client.delete(f"/v3/api_keys/{victim.key_id}", headers=tenant.headers)
        assert revoke.status_code == 204
        response = await client.get("/v3/scopes", headers=victim.headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}

    async def test_expired_key_is_401(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        victim = await make_key(app.state.resources.maker, tenant.tenant_id, ["stats.read"])
        async with unit_of_work(app.state.resources.maker) as session:
            await session.execute(
                update(ApiKey)
                .where(ApiKey.id == victim.key_id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        response = await client.get("/v3/scopes", headers=victim.headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}

    async def test_missing_scope_is_403(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        limited = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.send"])
        response = await client.get("/v3/api_keys", headers=limited.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: admin.api_keys"}

    async def test_key_without_scopes_has_no_access(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        empty = await make_key(app.state.resources.maker, tenant.tenant_id, [])
        assert (await client.get("/v3/api_keys", headers=empty.headers)).status_code == 403
        assert (await client.get("/v3/scopes", headers=empty.headers)).json() == {"scopes": []}

    async def test_suspended_tenant_is_403(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            await session.execute(update(Tenant).where(Tenant.id == tenant.tenant_id).values(suspended=True))
        response = await client.get("/v3/scopes", headers=tenant.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Tenant suspended"}


class TestScopes:
    async def test_lists_the_callers_scopes(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        key = await make_key(app.state.resources.maker, tenant.tenant_id, ["stats.read", "mail.send"])
        response = await client.get("/v3/scopes", headers=key.headers)
        assert response.status_code == 200
        assert response.json() == {"scopes": ["mail.send", "stats.read"]}


class TestApiKeys:
    async def test_create_shows_secret_once_then_only_prefix(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        created = await client.post(
            "/v3/api_keys", headers=tenant.headers, json={"name": "ci", "scopes": ["mail.send"], "environment": "test"}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert API_KEY_RE.match(body["api_key"])
        assert body["api_key"].startswith("sg_test_")
        assert body["prefix"] == body["api_key"][:16]
        assert body["id"].startswith("key_")
        fetched = await client.get(f"/v3/api_keys/{body['id']}", headers=tenant.headers)
        assert fetched.status_code == 200
        assert "api_key" not in fetched.json()
        assert fetched.json()["scopes"] == ["mail.send"]
        # the new key works and carries exactly its scopes
        new_headers = {"Authorization": f"Bearer {body['api_key']}"}
        assert (await client.get("/v3/scopes", headers=new_headers)).json() == {"scopes": ["mail.send"]}

    async def test_list_hides_revoked_unless_asked(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        created = (await client.post("/v3/api_keys", headers=tenant.headers, json={"name": "tmp"})).json()
        await client.delete(f"/v3/api_keys/{created['id']}", headers=tenant.headers)
        listed = (await client.get("/v3/api_keys", headers=tenant.headers)).json()["api_keys"]
        assert created["id"] not in [k["id"] for k in listed]
        with_revoked = (await client.get("/v3/api_keys?include_revoked=true", headers=tenant.headers)).json()
        revoked = [k for k in with_revoked["api_keys"] if k["id"] == created["id"]]
        assert revoked
        assert revoked[0]["revoked_at"] is not None

    async def test_unknown_scope_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            "/v3/api_keys", headers=tenant.headers, json={"name": "x", "scopes": ["mail.send", "mail.teleport"]}
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "Unknown scope: mail.teleport"}

    async def test_cannot_grant_more_than_held(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        admin_only = await make_key(app.state.resources.maker, tenant.tenant_id, ["admin.api_keys"])
        response = await client.post(
            "/v3/api_keys", headers=admin_only.headers, json={"name": "x", "scopes": ["mail.send"]}
        )
        assert response.status_code == 403
        assert "mail.send" in response.json()["detail"]

    async def test_name_is_validated(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/api_keys", headers=tenant.headers, json={"name": ""})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "name"]

    async def test_update_changes_name_and_scopes(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        created = (
            await client.post("/v3/api_keys", headers=tenant.headers, json={"name": "a", "scopes": ["mail.send"]})
        ).json()
        response = await client.patch(
            f"/v3/api_keys/{created['id']}", headers=tenant.headers, json={"name": "b", "scopes": ["stats.read"]}
        )
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["scopes"]) == ("b", ["stats.read"])
        new_headers = {"Authorization": f"Bearer {created['api_key']}"}
        assert (await client.get("/v3/scopes", headers=new_headers)).json() == {"scopes": ["stats.read"]}

    async def test_rotate_invalidates_old_secret(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        created = (
            await client.post("/v3/api_keys", headers=tenant.headers, json={"name": "r", "scopes": ["stats.read"]})
        ).json()
        rotated = await client.post(f"/v3/api_keys/{created['id']}/rotate", headers=tenant.headers)
        assert rotated.status_code == 200
        old = {"Authorization": f"Bearer {created['api_key']}"}
        new = {"Authorization": f"Bearer {rotated.json()['api_key']}"}
        assert (await client.get("/v3/scopes", headers=old)).status_code == 401
        assert (await client.get("/v3/scopes", headers=new)).status_code == 200

    async def test_expires_at_in_the_past_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            "/v3/api_keys", headers=tenant.headers, json={"name": "x", "expires_at": "2001-01-01T00:00:00Z"}
        )
        assert response.status_code == 400

    async def test_admin_key_sees_every_scope(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get("/v3/scopes", headers=tenant.headers)
        assert set(response.json()["scopes"]) == SCOPE_NAMES
