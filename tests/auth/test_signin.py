"""Sign-in through /v3/auth/* (docs/identity.md, D1, D53) against the real OIDC provider on loopback
(tests/harness/oidc.py): authorization code with PKCE and state, token exchange, the user made from the ID token,
/v3/auth/me, permissions through roles and group mappings, refresh with rotation and reuse detection, logout."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.factories.tenants import TenantKey, make_user
from tests.harness.oidc import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, OidcProvider, Person


@pytest.fixture(scope="module")
async def oidc_app(database: Settings, oidc_provider: OidcProvider) -> AsyncIterator[FastAPI]:
    settings = database.model_copy(
        update={
            "OIDC_ISSUER": oidc_provider.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URI": REDIRECT_URI,
            "SCAIKEY_JWKS_URL": oidc_provider.jwks_url,
        }
    )
    application = create_app(settings)
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def api(oidc_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=oidc_app), base_url="http://testserver") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def authorize(api: httpx.AsyncClient, email: str | None = None) -> tuple[str, str]:
    """``/login``, then the browser's visit to the provider: the ``code`` and ``state`` it sends back."""
    login = await api.post("/v3/auth/login", json={"email": email} if email else {})
    assert login.status_code == 200, login.text
    url = login.json()["authorization_url"]
    query = parse_qs(urlparse(url).query)
    assert (query["code_challenge_method"], query["client_id"], query["state"]) == (
        ["S256"],
        [CLIENT_ID],
        [login.json()["state"]],
    )
    async with httpx.AsyncClient() as browser:
        redirect = await browser.get(url)
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT_URI)
    back = parse_qs(urlparse(location).query)
    return back["code"][0], back["state"][0]


async def sign_in(api: httpx.AsyncClient, provider: OidcProvider, person: Person) -> dict[str, object]:
    provider.person = person
    code, state = await authorize(api, person.email)
    response = await api.post("/v3/auth/callback", json={"code": code, "state": state})
    assert response.status_code == 200, response.text
    return dict(response.json())


def new_person(tenant: TenantKey, **kwargs: object) -> Person:
    return Person(sub=f"idp-{uuid.uuid4().hex[:12]}", tenant_id=tenant.tenant_id, **kwargs)  # type: ignore[arg-type]


class TestSignIn:
    async def test_sign_in_me_refused_then_granted_through_a_group_then_removed(
        self, api: httpx.AsyncClient, oidc_app: FastAPI, oidc_provider: OidcProvider, tenant: TenantKey
    ) -> None:
        person = new_person(tenant, email="new.hire@example.test", groups=["support"])
        session = await sign_in(api, oidc_provider, person)
        assert str(session["refresh_token"]).startswith("rtk_")
        assert session["expires_in"] == 3600
        user = session["user"]
        assert isinstance(user, dict)
        assert (user["email"], user["first_name"], user["tenant_id"]) == (
            "new.hire@example.test",
            "Ann",
            tenant.tenant_id,
        )
        token = bearer(str(session["access_token"]))

        me = await api.get("/v3/auth/me", headers=token)
        assert me.status_code == 200, me.text
        assert (me.json()["id"], me.json()["roles"], me.json()["permissions"]) == (user["id"], [], [])
        stats = {"start_date": "today"}
        assert (await api.get("/v3/stats", headers=token, params=stats)).status_code == 403

        maker = oidc_app.state.resources.maker
        admin_id = await make_user(maker, tenant.tenant_id, "admin")
        admin = bearer(oidc_provider.access_token(admin_id, tenant.tenant_id))
        roles = (await api.get("/api/admin/roles", headers=admin)).json()["data"]
        viewer = next(r["id"] for r in roles if r["name"] == "viewer")
        mapped = await api.post(f"/api/admin/groups/support/roles/{viewer}", headers=admin)
        assert mapped.status_code == 204, mapped.text

        assert (await api.get("/v3/stats", headers=token, params=stats)).status_code == 200
        me = (await api.get("/v3/auth/me", headers=token)).json()
        assert [(r["name"], r["via"]) for r in me["roles"]] == [("viewer", "group:support")]
        assert "stats.read" in me["permissions"]

        unmapped = await api.delete(f"/api/admin/groups/support/roles/{viewer}", headers=admin)
        assert unmapped.status_code == 204
        assert (await api.get("/v3/stats", headers=token, params=stats)).status_code == 403

    async def test_groups_claim_sets_memberships_at_each_sign_in_and_the_user_is_updated_not_duplicated(
        self, api: httpx.AsyncClient, oidc_app: FastAPI, oidc_provider: OidcProvider, tenant: TenantKey
    ) -> None:
        maker = oidc_app.state.resources.maker
        admin = bearer(oidc_provider.access_token(await make_user(maker, tenant.tenant_id, "admin"), tenant.tenant_id))
        created = await api.post("/api/admin/groups", headers=admin, json={"name": "senders"})
        roles = (await api.get("/api/admin/roles", headers=admin)).json()["data"]
        developer = next(r["id"] for r in roles if r["name"] == "developer")
        await api.post(f"/api/admin/groups/{created.json()['data']['id']}/roles/{developer}", headers=admin)

        person = new_person(tenant, groups=["senders"])
        first = await sign_in(api, oidc_provider, person)
        token = bearer(str(first["access_token"]))
        assert "mail.send" in (await api.get("/v3/auth/me", headers=token)).json()["permissions"]

        person.groups, person.email = [], "renamed@example.test"
        second = await sign_in(api, oidc_provider, person)
        assert second["user"] == {**first["user"], "email": "renamed@example.test"}  # type: ignore[dict-item]
        me = (await api.get("/v3/auth/me", headers=bearer(str(second["access_token"])))).json()
        assert (me["permissions"], me["email"]) == ([], "renamed@example.test")

    async def test_state_is_single_use_and_must_match(
        self, api: httpx.AsyncClient, oidc_provider: OidcProvider, tenant: TenantKey
    ) -> None:
        oidc_provider.person = new_person(tenant)
        code, state = await authorize(api)
        forged = await api.post("/v3/auth/callback", json={"code": code, "state": "not-the-state"})
        assert (forged.status_code, forged.json()["detail"]) == (401, "State mismatch: unknown or expired sign-in")
        assert (await api.post("/v3/auth/callback", json={"code": code, "state": state})).status_code == 200
        replay = await api.post("/v3/auth/callback", json={"code": code, "state": state})
        assert replay.status_code == 401

    async def test_bad_code_is_400(
        self, api: httpx.AsyncClient, oidc_provider: OidcProvider, tenant: TenantKey
    ) -> None:
        oidc_provider.person = new_person(tenant)
        _code, state = await authorize(api)
        response = await api.post("/v3/auth/callback", json={"code": "made-up", "state": state})
        assert response.status_code == 400
        assert response.json()["detail"] == "Bad or expired code (invalid_grant)"

    async def test_unknown_tenant_claim_is_refused(self, api: httpx.AsyncClient, oidc_provider: OidcProvider) -> None:
        oidc_provider.person = Person(sub=f"idp-{uuid.uuid4().hex}", tenant_id="tnt_nowhere")
        code, state = await authorize(api)
        response = await api.post("/v3/auth/callback", json={"code": code, "state": state})
        assert response.status_code == 403
        assert response.json()["detail"] == "The identity provider named no known tenant (claim tenant_id)"

    async def test_me_needs_a_jwt(self, api: httpx.AsyncClient, tenant: TenantKey) -> None:
        assert (await api.get("/v3/auth/me", headers=tenant.headers)).status_code == 401
        assert (await api.get("/v3/auth/me")).status_code == 401


class TestRefreshAndLogout:
    async def test_refresh_rotates_and_a_replayed_token_revokes_the_sign_in(
        self, api: httpx.AsyncClient, oidc_provider: OidcProvider, tenant: TenantKey
    ) -> None:
        first = await sign_in(api, oidc_provider, new_person(tenant))
        refreshed = await api.post("/v3/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        second = refreshed.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert str(second["refresh_token"]).startswith("rtk_")
        assert (await api.get("/v3/auth/me", headers=bearer(second["access_token"]))).status_code == 200

        replay = await api.post("/v3/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert (replay.status_code, replay.json()) == (401, {"detail": "Invalid or expired refresh token"})
        after = await api.post("/v3/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert after.status_code == 401  # the replay revoked the whole sign-in

    async def test_logout_revokes_here_and_at_the_provider(
        self, api: httpx.AsyncClient, oidc_provider: OidcProvider, tenant: TenantKey
    ) -> None:
        session = await sign_in(api, oidc_provider, new_person(tenant))
        revoked_before = len(oidc_provider.revoked)
        response = await api.post("/v3/auth/logout", json={"refresh_token": session["refresh_token"]})
        assert response.status_code == 200
        assert len(oidc_provider.revoked) == revoked_before + 1
        again = await api.post("/v3/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert again.status_code == 401
        assert (await api.post("/v3/auth/logout")).status_code == 200  # stateless without a token

    async def test_unknown_refresh_token(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/v3/auth/refresh", json={"refresh_token": "rtk_unknown"})
        assert response.status_code == 401


async def test_sign_in_not_configured_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/v3/auth/login", json={})
    assert (response.status_code, response.json()) == (404, {"detail": "Sign-in is not configured (OIDC_ISSUER)"})


async def test_provider_down_is_502(database: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    application = create_app(database.model_copy(update={"OIDC_ISSUER": f"http://127.0.0.1:{port}"}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
            response = await c.post("/v3/auth/login", json={})
    finally:
        await application.state.resources.aclose()
    assert (response.status_code, response.json()) == (502, {"detail": "Identity provider unavailable"})


async def test_sign_in_routes_are_rate_limited_per_client_address(
    database: Settings, oidc_provider: OidcProvider
) -> None:
    settings = database.model_copy(
        update={
            "OIDC_ISSUER": oidc_provider.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_REDIRECT_URI": REDIRECT_URI,
            "RATE_LIMIT_SIGNIN": "3 per 1 minute",
            "REDIS_QUEUE_PREFIX": f"{database.REDIS_QUEUE_PREFIX}signin-{uuid.uuid4().hex[:6]}:",
        }
    )
    application = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
            codes = [(await c.post("/v3/auth/login", json={})).status_code for _ in range(3)]
            refused = await c.post("/v3/auth/refresh", json={"refresh_token": "rtk_x"})
    finally:
        await application.state.resources.aclose()
    assert codes == [200, 200, 200]
    assert (refused.status_code, refused.json()) == (429, {"detail": "Rate limit exceeded"})
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Limit"] == "3"
