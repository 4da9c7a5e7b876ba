"""Whether a tenant may still send (issue 9 finding 5): a suspended tenant's queued and retrying mail stops at compose
and at delivery, not only at the API (which answers 403 to its credentials)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import Tenant

SUSPENDED_REASON = "Tenant suspended"


async def tenant_suspended(session: AsyncSession, tenant_id: str) -> bool:
    """True when the tenant is suspended (or gone)."""
    tenant = await session.get(Tenant, tenant_id)
    return tenant is None or bool(tenant.suspended)
