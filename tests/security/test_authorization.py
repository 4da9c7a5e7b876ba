"""Issue 9 finding 5: a key with ``scopes: []`` read a message's full content, a key with only ``admin.api_keys``
rotated a ``mail.send`` key and received its secret, JWTs were accepted for any audience and issuer and for users with
no role in the tenant, and a suspended tenant's queued mail kept going. Each attack now fails."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from scaisend.api.app import create_app
from scaisend.clock import SystemClock
from scaisend.compose.tasks import Outcome, compose_in
from scaisend.db.session import unit_of_work
from scaisend.models import Message, MessageStatus, Tenant
from scaisend.settings import Settings, SettingsError, load_settings
from tests.factories.compose import make_message
from tests.factories.delivery import DeliveryWorld, Sender, make_sender, open_world
from tests.factories.tenants import TenantKey, make_key, make_tenant, make_user
from tests.harness.dns import LoopbackDNS
from tests.harness.jwks import JwksIssuer
from tests.harness.mx import ScriptableMX

AUDIENCE, ISSUER = "scaisend-api", "https://id.example.test"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestReadingMessages:
    @pytest.mark.parametrize("scopes", [[], ["stats.read"], ["templates.read", "suppressions.read"]])
    async def test_keys_without_a_mail_scope_read_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, scopes: list[str]
    ) -> None:
        message_id = await make_message(app.state.resources.maker, tenant.tenant_id)
        key = await make_key(app.state.resources.maker, tenant.tenant_id, scopes)
        for path in ("/v3/messages", f"/v3/messages/{message_id}"):
            response = await client.get(path, headers=key.headers)
            assert response.status_code == 403
            assert response.json() == {"detail": "Missing required scope: mail.send"}

    @pytest.mark.parametrize("scope", ["mail.send", "mail.schedule", "mail.cancel"])
    async def test_any_mail_scope_reads(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, scope: str
    ) -> None:
        message_id = await make_message(app.state.resources.maker, tenant.tenant_id)
        key = await make_key(app.state.resources.maker, tenant.tenant_id, [scope])
        response = await client.get(f"/v3/messages/{message_id}", headers=key.headers)
        assert response.status_code == 200
        assert response.json()["id"] == message_id


class TestKeyManagementStaysWithinTheCallersScopes:
    async def test_rotating_a_wider_key_is_refused_and_its_secret_keeps_working(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        admin_only = await make_key(maker, tenant.tenant_id, ["admin.api_keys"])
        sender = await make_key(maker, tenant.tenant_id, ["mail.send"])
        response = await client.post(f"/v3/api_keys/{sender.key_id}/rotate", headers=admin_only.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Cannot rotate a key with scopes you do not hold: mail.send"}
        assert "api_key" not in response.json()
        assert (await client.get("/v3/scopes", headers=sender.headers)).json() == {"scopes": ["mail.send"]}

    async def test_rotating_a_key_within_the_callers_scopes_works(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        sender = await make_key(maker, tenant.tenant_id, ["mail.send"])
        response = await client.post(f"/v3/api_keys/{sender.key_id}/rotate", headers=tenant.headers)
        assert response.status_code == 200
        assert (await client.get("/v3/scopes", headers=sender.headers)).status_code == 401
        new = {"Authorization": f"Bearer {response.json()['api_key']}"}
        assert (await client.get("/v3/scopes", headers=new)).json() == {"scopes": ["mail.send"]}

    async def test_creating_or_widening_beyond_own_scopes_is_refused(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        admin_only = await make_key(maker, tenant.tenant_id, ["admin.api_keys"])
        created = await client.post(
            "/v3/api_keys", json={"name": "wide", "scopes": ["mail.send"]}, headers=admin_only.headers
        )
        assert created.status_code == 403
        mine = await client.post(
            "/v3/api_keys", json={"name": "narrow", "scopes": ["admin.api_keys"]}, headers=admin_only.headers
        )
        assert mine.status_code == 201
        widened = await client.patch(
            f"/v3/api_keys/{mine.json()['id']}",
            json={"scopes": ["admin.api_keys", "mail.send"]},
            headers=admin_only.headers,
        )
        assert widened.status_code == 403


@pytest.fixture(scope="module")
async def jwt_app(database: Settings, jwks_issuer: JwksIssuer) -> AsyncIterator[FastAPI]:
    settings = database.model_copy(
        update={"SCAIKEY_JWKS_URL": jwks_issuer.url, "JWT_AUDIENCE": AUDIENCE, "JWT_ISSUER": ISSUER}
    )
    application = create_app(settings)
    yield application
    await application.state.resources.aclose()


@pytest.fixture
async def jwt_client(jwt_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=jwt_app), base_url="http://t") as http:
        yield http


class TestJwtClaims:
    @pytest.mark.parametrize(
        ("claims", "status"),
        [
            pytest.param({"aud": AUDIENCE, "iss": ISSUER}, 200, id="ours"),
            pytest.param({"aud": "another-app", "iss": ISSUER}, 401, id="other-audience"),
            pytest.param({"iss": ISSUER}, 401, id="no-audience"),
            pytest.param({"aud": AUDIENCE, "iss": "https://evil.example"}, 401, id="other-issuer"),
            pytest.param({"aud": AUDIENCE}, 401, id="no-issuer"),
        ],
    )
    async def test_audience_and_issuer_are_checked(
        self,
        jwt_app: FastAPI,
        jwt_client: httpx.AsyncClient,
        jwks_issuer: JwksIssuer,
        claims: dict[str, str],
        status: int,
    ) -> None:
        tenant = await make_tenant(jwt_app.state.resources.maker)
        user_id = await make_user(jwt_app.state.resources.maker, tenant.tenant_id, "admin")
        token = jwks_issuer.token(user_id, tenant.tenant_id, **claims)
        assert (await jwt_client.get("/v3/scopes", headers=bearer(token))).status_code == status

    async def test_user_without_a_role_in_the_tenant_is_refused(
        self, jwt_app: FastAPI, jwt_client: httpx.AsyncClient, jwks_issuer: JwksIssuer
    ) -> None:
        home = await make_tenant(jwt_app.state.resources.maker)
        victim = await make_tenant(jwt_app.state.resources.maker)
        user_id = await make_user(jwt_app.state.resources.maker, home.tenant_id, "admin")
        token = jwks_issuer.token(user_id, victim.tenant_id, aud=AUDIENCE, iss=ISSUER)
        response = await jwt_client.get("/v3/scopes", headers=bearer(token))
        assert response.status_code == 403
        assert response.json() == {"detail": "User has no role in this tenant"}

    def test_jwks_without_audience_and_issuer_does_not_load(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SCAIKEY_JWKS_URL", "https://id.example.test/jwks.json")
        with pytest.raises(SettingsError, match="JWT_AUDIENCE and JWT_ISSUER must be set"):
            load_settings(_env_file=None)
        monkeypatch.setenv("ENVIRONMENT", "development")
        assert load_settings(_env_file=None).JWT_AUDIENCE == ""


async def _suspend(maker: object, tenant_id: str) -> None:
    async with unit_of_work(maker) as session:  # type: ignore[arg-type]
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(suspended=True))


class TestSuspendedTenantMailStops:
    async def test_at_compose(self, app: FastAPI, tenant: TenantKey) -> None:
        maker = app.state.resources.maker
        message_id = await make_message(maker, tenant.tenant_id)
        await _suspend(maker, tenant.tenant_id)
        async with unit_of_work(maker) as session:
            composed = await compose_in(session, app.state.resources.settings, SystemClock(), message_id)
        assert composed.outcome is Outcome.TENANT_SUSPENDED
        assert composed.delivery_attempt is None
        async with unit_of_work(maker) as session:
            row = await session.get(Message, message_id)
        assert row is not None
        assert (row.status, row.error_message) == (MessageStatus.FAILED, "Tenant suspended: the message was not sent")

    @pytest.fixture
    async def world(self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX) -> AsyncIterator[DeliveryWorld]:
        sender: Sender = await make_sender(app.state.resources.maker, app.state.resources.settings)
        async with open_world(app, dns, mx, sender=sender) as w:
            yield w

    async def test_at_delivery(self, world: DeliveryWorld) -> None:
        recipient = f"r{uuid.uuid4().hex[:8]}@suspended.example.test"
        world.route("suspended.example.test")
        message_id = await world.message([recipient])
        await _suspend(world.maker, world.sender.tenant_id)
        await world.run(message_id)
        row = await world.row(message_id)
        assert (row.status, row.error_message) == (MessageStatus.FAILED, "Tenant suspended: the message was not sent")
        assert world.mx.messages == []
