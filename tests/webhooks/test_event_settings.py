"""SendGrid's Event Webhook settings (D7): ``/v3/user/webhooks/event/settings`` and ``.../signed``."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sendgrid.helpers.eventwebhook import EventWebhook  # type: ignore[import-untyped]

from scaisend.webhooks.sendgrid_format import TOGGLES
from tests.factories.tenants import TenantKey, make_key

SETTINGS = "/v3/user/webhooks/event/settings"


class TestSettings:
    async def test_defaults_before_any_change(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get(SETTINGS, headers=tenant.headers)
        assert response.status_code == 200
        assert response.json() == {
            "enabled": False,
            "url": "",
            "friendly_name": None,
            "oauth_client_id": None,
            "oauth_token_url": None,
            **dict.fromkeys(TOGGLES, False),
        }

    async def test_round_trip(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        body = {
            "enabled": True,
            "url": "https://example.com/webhook-endpoint",
            "group_resubscribe": True,
            "delivered": False,
            "group_unsubscribe": True,
            "spam_report": True,
            "bounce": True,
            "deferred": True,
            "unsubscribe": True,
            "processed": False,
            "open": True,
            "click": True,
            "dropped": True,
            "friendly_name": "Engagement Webhook",
            "oauth_client_id": "a835e7",
            "oauth_client_secret": "335a9b",
            "oauth_token_url": "https://oauthservice.example.com",
            "account_status_change": True,
        }
        response = await client.patch(SETTINGS, headers=tenant.headers, json=body)
        assert response.status_code == 200, response.text
        expected = {k: v for k, v in body.items() if k not in ("oauth_client_secret", "account_status_change")}
        assert response.json() == expected
        assert (await client.get(SETTINGS, headers=tenant.headers)).json() == expected

    async def test_partial_update_keeps_the_rest(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await client.patch(
            SETTINGS,
            headers=tenant.headers,
            json={"enabled": True, "url": "https://example.com/in", "open": True, "click": True},
        )
        response = await client.patch(SETTINGS, headers=tenant.headers, json={"click": False})
        body = response.json()
        assert (body["enabled"], body["url"], body["open"], body["click"]) == (
            True,
            "https://example.com/in",
            True,
            False,
        )

    async def test_enabling_needs_a_url(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.patch(SETTINGS, headers=tenant.headers, json={"enabled": True, "open": True})
        assert response.status_code == 400
        assert response.json() == {"detail": "url is required to enable the Event Webhook"}
        assert (await client.get(SETTINGS, headers=tenant.headers)).json()["enabled"] is False

    async def test_bad_url_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.patch(SETTINGS, headers=tenant.headers, json={"url": "gopher://example.com/"})
        assert response.status_code == 400

    async def test_tenants_are_apart(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await client.patch(SETTINGS, headers=tenant.headers, json={"enabled": True, "url": "https://a.example/"})
        assert (await client.get(SETTINGS, headers=other_tenant.headers)).json()["enabled"] is False


class TestSigned:
    async def test_enable_returns_a_key_the_official_helper_loads(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        assert (await client.get(f"{SETTINGS}/signed", headers=tenant.headers)).json() == {
            "enabled": False,
            "public_key": "",
        }
        response = await client.patch(f"{SETTINGS}/signed", headers=tenant.headers, json={"enabled": True})
        assert response.status_code == 200
        public_key = response.json()["public_key"]
        assert response.json()["enabled"] is True
        EventWebhook().convert_public_key_to_ecdsa(public_key)
        assert (await client.get(f"{SETTINGS}/signed", headers=tenant.headers)).json()["public_key"] == public_key
        again = await client.patch(f"{SETTINGS}/signed", headers=tenant.headers, json={"enabled": True})
        assert again.json()["public_key"] == public_key

    async def test_disable_removes_the_key_and_re_enable_makes_a_new_one(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        first = (await client.patch(f"{SETTINGS}/signed", headers=tenant.headers, json={"enabled": True})).json()
        off = await client.patch(f"{SETTINGS}/signed", headers=tenant.headers, json={"enabled": False})
        assert off.json() == {"enabled": False, "public_key": ""}
        second = (await client.patch(f"{SETTINGS}/signed", headers=tenant.headers, json={"enabled": True})).json()
        assert second["public_key"] != first["public_key"]

    async def test_enabled_is_required(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        assert (await client.patch(f"{SETTINGS}/signed", headers=tenant.headers, json={})).status_code == 422


class TestScopes:
    async def test_reading_and_writing(self, client: httpx.AsyncClient, app: FastAPI, tenant: TenantKey) -> None:
        reader = await make_key(app.state.resources.maker, tenant.tenant_id, ["webhooks.read"])
        assert (await client.get(SETTINGS, headers=reader.headers)).status_code == 200
        assert (await client.get(f"{SETTINGS}/signed", headers=reader.headers)).status_code == 200
        denied = await client.patch(SETTINGS, headers=reader.headers, json={"open": True})
        assert denied.json() == {"detail": "Missing required scope: webhooks.write"}
        assert (
            await client.patch(f"{SETTINGS}/signed", headers=reader.headers, json={"enabled": True})
        ).status_code == 403
