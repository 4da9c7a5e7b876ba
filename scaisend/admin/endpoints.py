"""``/api/admin/tenants/{tenant_id}/tracking`` (docs/identity.md, docs/domains.md, docs/compose.md): a tenant's tracking defaults. The path takes the
local id or the ScaiKey id of the caller's own tenant; any other tenant is 404."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from scaisend.admin.tracking_settings import effective_defaults, update_defaults
from scaisend.api.deps import SessionDep
from scaisend.auth.deps import AdminSettings
from scaisend.auth.principal import Principal
from scaisend.errors import NotFoundError
from scaisend.tenants.service import resolve_tenant

router = APIRouter(prefix="/api/admin", tags=["admin"])


async def _own_tenant(session: SessionDep, principal: Principal, tenant_ref: str) -> str:
    tenant = await resolve_tenant(session, tenant_ref)
    if tenant is None or tenant.id != principal.tenant_id:
        raise NotFoundError(f"Tenant not found: {tenant_ref}")
    return tenant.id


@router.get("/tenants/{tenant_id}/tracking")
async def get_tracking(tenant_id: str, principal: AdminSettings, session: SessionDep) -> dict[str, Any]:
    own = await _own_tenant(session, principal, tenant_id)
    return {"data": await effective_defaults(session, own)}


@router.put("/tenants/{tenant_id}/tracking")
async def put_tracking(
    tenant_id: str, principal: AdminSettings, session: SessionDep, body: dict[str, Any] = Body(...)
) -> dict[str, Any]:
    own = await _own_tenant(session, principal, tenant_id)
    return {"data": await update_defaults(session, own, body)}
