"""JWT authentication (D1): tokens from a loopback JWKS issuer, tenant from the claim, permissions from roles."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.factories.tenants import TenantKey, make_user
from tests.harness.jwks import JwksIssuer


@pytest.fixture(scope="module")
async def jwt_app(database: Settings, jwks_issuer: JwksIssuer) -> AsyncIterator[FastAPI]:
    application = create_app(database.model_copy(update={"SCAIKEY_JWKS_URL": jwks_issuer.url}))
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def jwt_client(jwt_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=jwt_app), base_url="http://testserver") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestJwt:
    @pytest.mark.parametrize("alg", ["RS256", "ES256"])
    async def test_admin_role_gets_every_permission(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer, alg: str
    ) -> None:
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
        token = jwks_issuer.token(user_id, tenant.tenant_id, alg=alg)
        response = await jwt_client.post(
            "/v3/api_keys", headers=bearer(token), json={"name": "from jwt", "scopes": ["mail.send"]}
        )
        assert response.status_code == 201, response.text

    async def test_developer_role_lacks_admin(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "developer")
        token = jwks_issuer.token(user_id, tenant.tenant_id)
        scopes = (await jwt_client.get("/v3/scopes", headers=bearer(token))).json()["scopes"]
        assert scopes == sorted(["mail.send", "mail.schedule", "templates.read", "stats.read", "webhooks.read"])
        response = await jwt_client.get("/v3/api_keys", headers=bearer(token))
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: admin.api_keys"}

    async def test_tenant_from_scaikey_id_claim(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "viewer", scaikey_id="sk-usr-1")
        token = jwks_issuer.token("sk-usr-1", tenant.tenant_id)
        response = await jwt_client.get("/v3/scopes", headers=bearer(token))
        assert response.status_code == 200
        assert "stats.read" in response.json()["scopes"]
        assert user_id.startswith("usr_")

    async def test_key_not_in_jwks_is_refused(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        for kid in ("rsa-1", "unknown-kid"):
            token = jwks_issuer.token(user_id, tenant.tenant_id, key=stranger, kid=kid)
            response = await jwt_client.get("/v3/scopes", headers=bearer(token))
            assert response.status_code == 401
            assert response.json() == {"detail": "JWT signature invalid"}

    async def test_expired_token(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
        token = jwks_issuer.token(user_id, tenant.tenant_id, ttl=-10)
        response = await jwt_client.get("/v3/scopes", headers=bearer(token))
        assert response.status_code == 401
        assert response.json() == {"detail": "JWT expired"}

    async def test_unknown_tenant_is_401(
        self, jwt_client: httpx.AsyncClient, jwt_app: FastAPI, tenant: TenantKey, jwks_issuer: JwksIssuer
    ) -> None:
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
        token = jwks_issuer.token(user_id, "tnt_doesnotexist")
        response = await jwt_client.get("/v3/scopes", headers=bearer(token))
        assert response.status_code == 401
        assert response.json() == {"detail": "Unknown tenant"}

    async def test_user_without_role_in_tenant_is_refused(
        self,
        jwt_client: httpx.AsyncClient,
        jwt_app: FastAPI,
        tenant: TenantKey,
        other_tenant: TenantKey,
        jwks_issuer: JwksIssuer,
    ) -> None:
        """Issue 9 finding 5: no role in the claimed tenant is a refusal, not an empty set of scopes."""
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
        token = jwks_issuer.token(user_id, other_tenant.tenant_id)
        response = await jwt_client.get("/v3/scopes", headers=bearer(token))
        assert response.status_code == 403
        assert response.json() == {"detail": "User has no role in this tenant"}
