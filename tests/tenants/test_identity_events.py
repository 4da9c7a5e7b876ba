"""POST /webhooks/scaikey (docs/observability.md, docs/deploy.md, D54) through the real API: signed identity events build and change partners,
tenants, users, groups and memberships, and what they set up decides what a user's JWT may do; bad or stale
signatures are 401, redeliveries are acknowledged once applied, unknown types are acknowledged and counted."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from scaisend.api.app import create_app
from scaisend.db.session import unit_of_work
from scaisend.metrics import IDENTITY_EVENTS_SPEC
from scaisend.settings import Settings
from scaisend.tenants.service import resolve_tenant
from scaisend.webhooks.signing import signature_header
from tests.factories.tenants import make_key, make_user
from tests.harness.jwks import JwksIssuer

SECRET = "scaikey-webhook-secret-for-tests"


@pytest.fixture(scope="module")
async def events_app(database: Settings, jwks_issuer: JwksIssuer) -> AsyncIterator[FastAPI]:
    application = create_app(
        database.model_copy(update={"SCAIKEY_WEBHOOK_SECRET": SECRET, "SCAIKEY_JWKS_URL": jwks_issuer.url})
    )
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def api(events_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=events_app), base_url="http://testserver") as c:
        yield c


def counted(family: str, outcome: str) -> float:
    return REGISTRY.get_sample_value(IDENTITY_EVENTS_SPEC.name, {"family": family, "outcome": outcome}) or 0.0


def sk(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def post_event(
    api: httpx.AsyncClient,
    event_type: str,
    data: dict[str, Any],
    *,
    event_id: str | None = None,
    at: int | None = None,
    secret: str = SECRET,
    **envelope: Any,
) -> httpx.Response:
    body = json.dumps(
        {
            "event_id": event_id or sk("evt"),
            "event_type": event_type,
            "timestamp": "2026-12-02T12:00:00Z",
            "data": data,
            **envelope,
        }
    ).encode()
    timestamp = int(time.time()) if at is None else at
    headers = {"X-ScaiKey-Signature": signature_header(secret, timestamp, body), "Content-Type": "application/json"}
    return await api.post("/webhooks/scaikey", content=body, headers=headers)


async def applied(api: httpx.AsyncClient, event_type: str, data: dict[str, Any], **kw: Any) -> None:
    response = await post_event(api, event_type, data, **kw)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "applied"}, (event_type, response.json())


def bearer(issuer: JwksIssuer, sub: str, tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token(sub, tenant)}"}


class TestMirror:
    async def test_events_build_the_tenancy_and_decide_permissions(
        self, api: httpx.AsyncClient, events_app: FastAPI, jwks_issuer: JwksIssuer
    ) -> None:
        partner, tenant, user, parent, child = sk("prt"), sk("tnt"), sk("usr"), sk("grp"), sk("grp")
        await applied(api, "partner.created", {"id": partner, "name": "Agency"})
        await applied(api, "tenant.created", {"id": tenant, "name": "Client Shop", "partner_id": partner})
        await applied(
            api, "user.created", {"id": user, "email": "eve@shop.example", "first_name": "Eve"}, tenant_id=tenant
        )
        await applied(api, "group.created", {"id": parent, "name": "staff"}, tenant_id=tenant)
        await applied(api, "group.created", {"id": child, "name": "support", "parent_id": parent}, tenant_id=tenant)
        await applied(api, "group_membership.created", {"group_id": child, "user_id": user}, tenant_id=tenant)

        eve = bearer(jwks_issuer, user, tenant)
        me = await api.get("/v3/auth/me", headers=eve)
        assert me.status_code == 200, me.text
        assert (me.json()["email"], me.json()["tenant"]["name"], me.json()["permissions"]) == (
            "eve@shop.example",
            "Client Shop",
            [],
        )
        local_tenant = me.json()["tenant_id"]
        admin = bearer(jwks_issuer, await make_user(events_app.state.resources.maker, local_tenant, "admin"), tenant)
        [shown] = (await api.get("/api/admin/partners", headers=admin)).json()["data"]
        assert (shown["scaikey_id"], shown["name"]) == (partner, "Agency")
        roles = (await api.get("/api/admin/roles", headers=admin)).json()["data"]
        viewer = next(r["id"] for r in roles if r["name"] == "viewer")
        assert (await api.post(f"/api/admin/groups/{parent}/roles/{viewer}", headers=admin)).status_code == 204
        assert "stats.read" in (await api.get("/v3/scopes", headers=eve)).json()["scopes"]

        await applied(api, "group_membership.deleted", {"group_id": child, "user_id": user}, tenant_id=tenant)
        assert (await api.get("/v3/auth/me", headers=eve)).json()["permissions"] == []
        assert (await api.get("/v3/stats", headers=eve, params={"start_date": "today"})).status_code == 403

        await applied(api, "tenant.updated", {"id": tenant, "name": "Client Shop Ltd"})
        await applied(api, "user.updated", {"id": user, "email": "eve@new.example"})
        me = (await api.get("/v3/auth/me", headers=eve)).json()
        assert (me["email"], me["tenant"]["name"]) == ("eve@new.example", "Client Shop Ltd")

        await applied(api, "user.deleted", {"id": user})
        gone = await api.get("/v3/auth/me", headers=eve)
        assert (gone.status_code, gone.json()) == (401, {"detail": "Unknown user"})

    async def test_suspension_and_deletion_stop_the_tenant(self, api: httpx.AsyncClient, events_app: FastAPI) -> None:
        tenant = sk("tnt")
        await applied(api, "tenant.created", {"id": tenant, "name": "Pausable"})
        maker = events_app.state.resources.maker
        async with unit_of_work(maker) as session:
            found = await resolve_tenant(session, tenant)
        assert found is not None
        bearer_key = (await make_key(maker, found.id, ["stats.read"])).headers
        assert (await api.get("/v3/scopes", headers=bearer_key)).status_code == 200
        await applied(api, "tenant.suspended", {"id": tenant})
        assert (await api.get("/v3/scopes", headers=bearer_key)).json() == {"detail": "Tenant suspended"}
        await applied(api, "tenant.activated", {"id": tenant})
        assert (await api.get("/v3/scopes", headers=bearer_key)).status_code == 200
        await applied(api, "tenant.deleted", {"id": tenant})
        assert (await api.get("/v3/scopes", headers=bearer_key)).status_code == 403


class TestDelivery:
    async def test_a_redelivered_event_is_acknowledged_and_not_applied_again(self, api: httpx.AsyncClient) -> None:
        partner, event_id = sk("prt"), sk("evt")
        await applied(api, "partner.created", {"id": partner, "name": "Once"}, event_id=event_id)
        before = counted("partner", "duplicate")
        again = await post_event(api, "partner.created", {"id": partner, "name": "Twice"}, event_id=event_id)
        assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
        assert counted("partner", "duplicate") == before + 1

    async def test_unknown_event_type_is_acknowledged_and_counted(self, api: httpx.AsyncClient) -> None:
        before = counted("unknown", "ignored")
        response = await post_event(api, "invoice.paid", {"id": "inv_1"})
        assert response.status_code == 200
        assert response.json()["status"] == "ignored"
        assert counted("unknown", "ignored") == before + 1

    @pytest.mark.parametrize(
        ("secret", "age"),
        [("wrong-secret", 0), (SECRET, 301), (SECRET, -301)],
        ids=["bad signature", "older than 5 minutes", "more than 5 minutes ahead"],
    )
    async def test_bad_or_stale_signature_is_401_and_changes_nothing(
        self, api: httpx.AsyncClient, jwks_issuer: JwksIssuer, secret: str, age: int
    ) -> None:
        before = counted("unknown", "rejected")
        tenant = sk("tnt")
        response = await post_event(
            api, "tenant.created", {"id": tenant, "name": "Forged"}, secret=secret, at=int(time.time()) - age
        )
        assert (response.status_code, response.json()) == (401, {"detail": "Invalid or expired signature"})
        assert counted("unknown", "rejected") == before + 1
        me = await api.get("/v3/auth/me", headers=bearer(jwks_issuer, "nobody", tenant))
        assert me.json() == {"detail": "Unknown tenant"}

    async def test_unsigned_request_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/webhooks/scaikey", json={"event_id": "e", "event_type": "partner.created"})
        assert response.status_code == 401


async def test_route_is_off_without_a_secret(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/scaikey", json={})
    assert response.status_code == 404
