"""/api/admin/permissions, /roles, /users and /groups (docs/identity.md, docs/domains.md, docs/compose.md, docs/sending.md, D4, D51), through the real API with JWTs from
the loopback issuer: default and custom roles, direct assignment, group mappings with nested-group inheritance,
the no-escalation rule and tenant isolation."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from scaisend.auth.scopes import DEFAULT_ROLES, SCOPES
from tests.factories.identity import signed_in
from tests.factories.tenants import TenantKey, make_user
from tests.harness.jwks import JwksIssuer


class Admin:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def call(self, method: str, path: str, expect: int = 200, **kwargs: object) -> httpx.Response:
        response = await self.client.request(method, f"/api/admin{path}", headers=self.headers, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == expect, response.text
        return response

    async def data(self, method: str, path: str, expect: int = 200, **kwargs: object) -> dict:  # type: ignore[type-arg]
        return (await self.call(method, path, expect, **kwargs)).json()["data"]  # type: ignore[no-any-return]


@pytest.fixture
async def admin(jwt_app: FastAPI, jwt_client: httpx.AsyncClient, tenant: TenantKey, jwks_issuer: JwksIssuer) -> Admin:
    user = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
    return Admin(jwt_client, signed_in(jwks_issuer, user, tenant.tenant_id))


async def role_id(admin: Admin, name: str) -> str:
    return next(r["id"] for r in await admin.data("GET", "/roles") if r["name"] == name)


class TestPermissions:
    async def test_catalogue_with_category_filter_and_lookup_by_name(self, admin: Admin) -> None:
        everything = await admin.data("GET", "/permissions")
        assert {p["name"] for p in everything} == {s.name for s in SCOPES}
        mail = await admin.data("GET", "/permissions", params={"category": "mail"})
        assert sorted(p["name"] for p in mail) == ["mail.cancel", "mail.schedule", "mail.send"]
        one = await admin.data("GET", "/permissions/stats.read")
        assert (one["category"], (await admin.data("GET", f"/permissions/{one['id']}"))["name"]) == (
            "stats",
            "stats.read",
        )
        await admin.call("GET", "/permissions/mail.fly", expect=404)


class TestRoles:
    async def test_default_roles_with_their_permissions(self, admin: Admin) -> None:
        roles = await admin.data("GET", "/roles", params={"include_permissions": "true"})
        assert {r["name"]: r["permissions"] for r in roles} == {
            name: sorted(perms) for name, perms in DEFAULT_ROLES.items()
        }
        assert all(r["permissions"] is None for r in await admin.data("GET", "/roles"))

    async def test_custom_role_create_patch_delete(self, admin: Admin) -> None:
        role = await admin.data(
            "POST", "/roles", expect=201, json={"name": "sender", "permissions": ["mail.send", "stats.read"]}
        )
        assert role["permissions"] == ["mail.send", "stats.read"]
        await admin.call("POST", "/roles", expect=409, json={"name": "sender"})
        await admin.call("POST", "/roles", expect=400, json={"name": "odd", "permissions": ["mail.fly"]})
        patched = await admin.data("PATCH", f"/roles/{role['id']}", json={"permissions": ["mail.send"]})
        assert patched["permissions"] == ["mail.send"]
        await admin.call("DELETE", f"/roles/{role['id']}", expect=204)
        await admin.call("GET", f"/roles/{role['id']}", expect=404)

    async def test_user_manager_cannot_grant_more_than_it_holds(
        self, admin: Admin, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        await admin.data("POST", "/roles", expect=201, json={"name": "user-manager", "permissions": ["admin.users"]})
        manager = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "user-manager")
        limited = Admin(admin.client, signed_in(jwks_issuer, manager, tenant.tenant_id))
        response = await limited.call("POST", f"/users/{manager}/roles/{await role_id(admin, 'admin')}", expect=403)
        assert response.json()["detail"].startswith("Cannot grant permissions you do not hold: admin.api_keys")
        await limited.call("POST", "/roles", expect=403, json={"name": "x", "permissions": ["mail.send"]})
        await limited.call("POST", "/roles", expect=201, json={"name": "managers-too", "permissions": ["admin.users"]})

    async def test_developer_cannot_manage_users(
        self, admin: Admin, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        dev = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "developer")
        response = await admin.client.get("/api/admin/users", headers=signed_in(jwks_issuer, dev, tenant.tenant_id))
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: admin.users"}


class TestGrants:
    async def test_refused_until_a_role_grants_it_then_through_a_nested_group_then_removed(
        self, admin: Admin, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user = await admin.data("POST", "/users", expect=201, json={"email": "new@example.test", "first_name": "New"})
        assert (user["roles"], user["permissions"]) == ([], [])
        headers = signed_in(jwks_issuer, user["id"], tenant.tenant_id)
        stats = {"start_date": "today"}

        async def stats_status() -> int:
            return (await admin.client.get("/v3/stats", headers=headers, params=stats)).status_code

        assert await stats_status() == 403

        viewer = await role_id(admin, "viewer")
        await admin.call("POST", f"/users/{user['id']}/roles/{viewer}", expect=204)
        assert await stats_status() == 200
        await admin.call("DELETE", f"/users/{user['id']}/roles/{viewer}", expect=204)
        assert await stats_status() == 403

        eng = await admin.data("POST", "/groups", expect=201, json={"name": "eng"})
        ops = await admin.data("POST", "/groups", expect=201, json={"name": "ops", "parent_id": eng["id"]})
        await admin.call("POST", f"/groups/{eng['id']}/roles/{viewer}", expect=204)
        await admin.call("POST", f"/groups/{ops['id']}/members/{user['id']}", expect=204)
        assert await stats_status() == 200
        shown = await admin.data("GET", f"/users/{user['id']}")
        assert [(r["name"], r["via"]) for r in shown["roles"]] == [("viewer", "group:eng")]
        assert shown["groups"] == [ops["id"]]
        assert "stats.read" in shown["permissions"]
        assert (await admin.data("GET", f"/groups/{ops['id']}"))["members"] == [user["id"]]

        await admin.call("PATCH", f"/groups/{eng['id']}", expect=400, json={"parent_id": ops["id"]})
        await admin.call("DELETE", f"/groups/{ops['id']}/members/{user['id']}", expect=204)
        assert await stats_status() == 403
        await admin.call("POST", f"/groups/{ops['id']}/members/{user['id']}", expect=204)
        await admin.call("PATCH", f"/groups/{ops['id']}", json={"parent_id": ""})
        assert await stats_status() == 403

    async def test_removing_a_user_takes_its_roles_and_memberships_in_the_tenant(
        self, admin: Admin, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user = await admin.data("POST", "/users", expect=201, json={"email": "leaver@example.test"})
        group = await admin.data("POST", "/groups", expect=201, json={"name": "leavers"})
        await admin.call("POST", f"/users/{user['id']}/roles/{await role_id(admin, 'viewer')}", expect=204)
        await admin.call("POST", f"/groups/{group['id']}/members/{user['id']}", expect=204)
        headers = signed_in(jwks_issuer, user["id"], tenant.tenant_id)
        assert (await admin.client.get("/v3/scopes", headers=headers)).json()["scopes"] != []

        await admin.call("DELETE", f"/users/{user['id']}", expect=204)
        await admin.call("GET", f"/users/{user['id']}", expect=404)
        assert (await admin.data("GET", f"/groups/{group['id']}"))["members"] == []
        gone = await admin.client.get("/v3/scopes", headers=headers)
        assert (gone.status_code, gone.json()) == (401, {"detail": "Unknown user"})

    async def test_a_user_manager_cannot_remove_an_admin_or_itself(
        self, admin: Admin, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        await admin.data("POST", "/roles", expect=201, json={"name": "remover", "permissions": ["admin.users"]})
        maker = jwt_app.state.resources.maker
        manager = await make_user(maker, tenant.tenant_id, "remover")
        boss = await make_user(maker, tenant.tenant_id, "admin")
        limited = Admin(admin.client, signed_in(jwks_issuer, manager, tenant.tenant_id))
        await limited.call("DELETE", f"/users/{boss}", expect=403)
        await limited.call("DELETE", f"/users/{manager}", expect=400)

    async def test_other_tenants_users_roles_and_groups_are_404(
        self, admin: Admin, jwt_app: FastAPI, other_tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        stranger = await make_user(jwt_app.state.resources.maker, other_tenant.tenant_id, "admin")
        theirs = Admin(admin.client, signed_in(jwks_issuer, stranger, other_tenant.tenant_id))
        their_group = await theirs.data("POST", "/groups", expect=201, json={"name": "theirs"})
        their_role = await role_id(theirs, "viewer")
        mine = await admin.data("POST", "/users", expect=201, json={"email": "mine@example.test"})
        assert stranger not in {u["id"] for u in await admin.data("GET", "/users")}
        await admin.call("GET", f"/users/{stranger}", expect=404)
        await admin.call("GET", f"/groups/{their_group['id']}", expect=404)
        await admin.call("POST", f"/users/{mine['id']}/roles/{their_role}", expect=404)
        await theirs.call("POST", f"/groups/{their_group['id']}/members/{mine['id']}", expect=404)
