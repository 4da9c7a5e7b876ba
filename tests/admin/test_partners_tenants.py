"""/api/admin/partners and /api/admin/tenants (docs/identity.md, docs/domains.md, docs/compose.md, D50): visibility, patch, suspend and resume, and a
partner's aggregate stats, through the real API with JWTs from the loopback issuer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from scaisend.events.types import EventType
from tests.factories.identity import make_partner, make_partner_admin, signed_in
from tests.factories.stats import make_message, record
from tests.factories.tenants import TenantKey, make_tenant, make_user
from tests.harness.jwks import JwksIssuer


class World:
    """Two partners: P with tenants A and B, Q with tenant C. An admin of A, a viewer of A, a partner admin of P."""

    def __init__(self, p: str, q: str, a: TenantKey, b: TenantKey, c: TenantKey) -> None:
        self.p, self.q, self.a, self.b, self.c = p, q, a, b, c
        self.a_admin = self.a_viewer = self.p_admin = ""


@pytest.fixture
async def world(jwt_app: FastAPI) -> World:
    maker = jwt_app.state.resources.maker
    p, q = await make_partner(maker), await make_partner(maker, scaikey_id=f"prt_sk_{datetime.now(UTC).timestamp()}")
    w = World(
        p,
        q,
        await make_tenant(maker, partner_id=p),
        await make_tenant(maker, partner_id=p),
        await make_tenant(maker, partner_id=q),
    )
    w.a_admin = await make_user(maker, w.a.tenant_id, "admin")
    w.a_viewer = await make_user(maker, w.a.tenant_id, "viewer")
    w.p_admin = await make_user(maker, w.a.tenant_id, "admin")
    await make_partner_admin(maker, p, w.p_admin)
    return w


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["data"]}


class TestVisibility:
    async def test_tenant_user_sees_only_its_tenant_and_partner(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.a_viewer, world.a.tenant_id)
        assert ids(await jwt_client.get("/api/admin/partners", headers=headers)) == {world.p}
        assert ids(await jwt_client.get("/api/admin/tenants", headers=headers)) == {world.a.tenant_id}
        own = await jwt_client.get(f"/api/admin/tenants/{world.a.tenant_id}", headers=headers)
        assert own.status_code == 200
        assert own.json()["data"]["partner_id"] == world.p
        for path in (
            f"/api/admin/tenants/{world.b.tenant_id}",
            f"/api/admin/tenants/{world.c.tenant_id}",
            f"/api/admin/partners/{world.q}",
        ):
            response = await jwt_client.get(path, headers=headers)
            assert response.status_code == 404, path
        stats = await jwt_client.get(
            f"/api/admin/partners/{world.p}/stats", headers=headers, params={"start_date": "today"}
        )
        assert stats.status_code == 403
        other = await jwt_client.get(
            f"/api/admin/partners/{world.q}/stats", headers=headers, params={"start_date": "today"}
        )
        assert other.status_code == 404

    async def test_partner_admin_sees_every_tenant_of_its_partner_only(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.p_admin, world.a.tenant_id)
        assert ids(await jwt_client.get("/api/admin/tenants", headers=headers)) == {
            world.a.tenant_id,
            world.b.tenant_id,
        }
        filtered = await jwt_client.get("/api/admin/tenants", headers=headers, params={"partner_id": world.q})
        assert ids(filtered) == set()
        response = await jwt_client.get(f"/api/admin/tenants/{world.b.tenant_id}", headers=headers)
        assert response.status_code == 200
        assert (await jwt_client.get(f"/api/admin/tenants/{world.c.tenant_id}", headers=headers)).status_code == 404

    async def test_partner_by_scaikey_id(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        user = await make_user(jwt_app.state.resources.maker, world.c.tenant_id, "viewer")
        headers = signed_in(jwks_issuer, user, world.c.tenant_id)
        [partner] = (await jwt_client.get("/api/admin/partners", headers=headers)).json()["data"]
        assert partner["id"] == world.q
        by_scaikey = await jwt_client.get(f"/api/admin/partners/{partner['scaikey_id']}", headers=headers)
        assert by_scaikey.status_code == 200
        assert by_scaikey.json()["data"]["id"] == world.q

    async def test_api_keys_are_refused(self, jwt_client: httpx.AsyncClient, world: World) -> None:
        response = await jwt_client.get("/api/admin/tenants", headers=world.a.headers)
        assert response.status_code == 403
        assert "signed-in user" in response.json()["detail"]


class TestPatch:
    async def test_admin_renames_and_merges_settings(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.a_admin, world.a.tenant_id)
        path = f"/api/admin/tenants/{world.a.tenant_id}"
        first = await jwt_client.patch(path, headers=headers, json={"name": "Acme Mail", "settings": {"a": 1, "b": 2}})
        assert first.status_code == 200, first.text
        second = await jwt_client.patch(path, headers=headers, json={"settings": {"b": None, "c": [3]}})
        data = second.json()["data"]
        assert (data["name"], data["settings"]) == ("Acme Mail", {"a": 1, "c": [3]})
        assert (await jwt_client.get(path, headers=headers)).json()["data"]["name"] == "Acme Mail"

    async def test_viewer_cannot_patch(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.a_viewer, world.a.tenant_id)
        response = await jwt_client.patch(
            f"/api/admin/tenants/{world.a.tenant_id}", headers=headers, json={"name": "x"}
        )
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: admin.settings"}


class TestSuspension:
    async def test_partner_admin_suspends_and_resumes_a_tenant(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.p_admin, world.a.tenant_id)
        suspended = await jwt_client.post(f"/api/admin/tenants/{world.b.tenant_id}/suspend", headers=headers)
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["data"]["suspended"] is True
        refused = await jwt_client.get("/v3/scopes", headers=world.b.headers)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Tenant suspended"}
        resumed = await jwt_client.post(f"/api/admin/tenants/{world.b.tenant_id}/resume", headers=headers)
        assert resumed.json()["data"]["suspended"] is False
        assert (await jwt_client.get("/v3/scopes", headers=world.b.headers)).status_code == 200

    async def test_tenant_admin_cannot_suspend(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.a_admin, world.a.tenant_id)
        response = await jwt_client.post(f"/api/admin/tenants/{world.a.tenant_id}/suspend", headers=headers)
        assert response.status_code == 403
        assert (await jwt_client.get("/v3/scopes", headers=world.a.headers)).status_code == 200

    async def test_partner_admin_cannot_suspend_its_own_signed_in_tenant(
        self, jwt_client: httpx.AsyncClient, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        headers = signed_in(jwks_issuer, world.p_admin, world.a.tenant_id)
        response = await jwt_client.post(f"/api/admin/tenants/{world.a.tenant_id}/suspend", headers=headers)
        assert response.status_code == 400


class TestPartnerStats:
    async def test_sums_the_partners_tenants_in_the_v3_stats_shape(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        maker = jwt_app.state.resources.maker
        day = datetime(2026, 3, 4, 12, tzinfo=UTC)
        for owner, count in ((world.a, 2), (world.b, 3), (world.c, 7)):
            for _ in range(count):
                await record(maker, await make_message(maker, owner.tenant_id), EventType.DELIVERED, day)
        params = {"start_date": "2026-03-04", "end_date": "2026-03-05"}
        response = await jwt_client.get(
            f"/api/admin/partners/{world.p}/stats",
            headers=signed_in(jwks_issuer, world.p_admin, world.a.tenant_id),
            params=params,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert [d["date"] for d in body] == ["2026-03-04", "2026-03-05"]
        assert [d["stats"][0]["metrics"]["delivered"] for d in body] == [5, 0]
        own = await jwt_client.get("/v3/stats", headers=world.a.headers, params=params)
        assert set(own.json()[0]["stats"][0]["metrics"]) == set(body[0]["stats"][0]["metrics"])
        assert own.json()[0]["stats"][0]["metrics"]["delivered"] == 2


class TestPartnerAdmins:
    async def test_partner_admin_adds_and_removes_another_admin(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        boss = signed_in(jwks_issuer, world.p_admin, world.a.tenant_id)
        path = f"/api/admin/partners/{world.p}/admins"
        listed = await jwt_client.get(path, headers=boss)
        assert [u["id"] for u in listed.json()["data"]] == [world.p_admin]
        helper = await make_user(jwt_app.state.resources.maker, world.b.tenant_id, "viewer")
        helper_headers = signed_in(jwks_issuer, helper, world.b.tenant_id)
        assert ids(await jwt_client.get("/api/admin/tenants", headers=helper_headers)) == {world.b.tenant_id}

        assert (await jwt_client.post(f"{path}/{helper}", headers=boss)).status_code == 204
        assert ids(await jwt_client.get("/api/admin/tenants", headers=helper_headers)) == {
            world.a.tenant_id,
            world.b.tenant_id,
        }
        assert (await jwt_client.delete(f"{path}/{helper}", headers=boss)).status_code == 204
        assert ids(await jwt_client.get("/api/admin/tenants", headers=helper_headers)) == {world.b.tenant_id}
        assert (await jwt_client.delete(f"{path}/{world.p_admin}", headers=boss)).status_code == 400

    async def test_only_users_of_the_partners_tenants_and_only_by_partner_admins(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, world: World, jwks_issuer: JwksIssuer
    ) -> None:
        outsider = await make_user(jwt_app.state.resources.maker, world.c.tenant_id, "admin")
        boss = signed_in(jwks_issuer, world.p_admin, world.a.tenant_id)
        path = f"/api/admin/partners/{world.p}/admins"
        assert (await jwt_client.post(f"{path}/{outsider}", headers=boss)).status_code == 404
        tenant_admin = signed_in(jwks_issuer, world.a_admin, world.a.tenant_id)
        assert (await jwt_client.post(f"{path}/{world.a_admin}", headers=tenant_admin)).status_code == 403
        assert (await jwt_client.get(path, headers=tenant_admin)).status_code == 403
