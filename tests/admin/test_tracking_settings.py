"""Tenant tracking defaults at /api/admin/tenants/{id}/tracking (docs/identity.md, docs/domains.md, docs/compose.md)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from scaisend.models import DEFAULT_TRACKING
from tests.factories.tenants import TenantKey, make_key


async def test_defaults_then_partial_update(client: httpx.AsyncClient, tenant: TenantKey) -> None:
    path = f"/api/admin/tenants/{tenant.tenant_id}/tracking"
    initial = await client.get(path, headers=tenant.headers)
    assert initial.status_code == 200
    assert initial.json() == {"data": DEFAULT_TRACKING}
    updated = await client.put(
        path, headers=tenant.headers, json={"click_tracking_enabled": False, "utm_source": "scaisend"}
    )
    assert updated.status_code == 200
    second = await client.put(path, headers=tenant.headers, json={"open_tracking_enabled": False})
    data = second.json()["data"]
    assert (data["click_tracking_enabled"], data["open_tracking_enabled"], data["utm_source"]) == (
        False,
        False,
        "scaisend",
    )
    assert data["subscription_tracking_enabled"] is False


async def test_bad_values_are_400(client: httpx.AsyncClient, tenant: TenantKey) -> None:
    path = f"/api/admin/tenants/{tenant.tenant_id}/tracking"
    for body in ({"nonsense": True}, {"open_tracking_enabled": "yes"}, {"image_embed_mode": "inline"}):
        response = await client.put(path, headers=tenant.headers, json=body)
        assert response.status_code == 400, body
        assert "detail" in response.json()


async def test_needs_admin_settings(client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
    key = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.send"])
    response = await client.get(f"/api/admin/tenants/{tenant.tenant_id}/tracking", headers=key.headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Missing required scope: admin.settings"}
