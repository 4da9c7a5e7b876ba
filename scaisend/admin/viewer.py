"""Who is looking, for the identity admin routes (docs/identity.md, docs/domains.md, docs/compose.md, D50): these routes need a signed-in user (a JWT), not
an API key. A user sees its own tenant and that tenant's partner; a partner admin also sees every tenant of the
partners it administers, and manages them (rename, settings, suspend, resume, aggregate stats)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from scaisend.api.deps import SessionDep
from scaisend.auth.deps import AnyPrincipal
from scaisend.auth.principal import Principal
from scaisend.errors import ForbiddenError, MissingScopeError, NotFoundError
from scaisend.models import Tenant
from scaisend.tenants.partners import administered_partners
from scaisend.tenants.service import get_tenant, resolve_tenant

NEEDS_USER = "This route needs a signed-in user (a JWT), not an API key"


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    user_id: str
    own_partner_id: str | None  # the partner of the caller's tenant
    administered: frozenset[str]  # partners the caller administers

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    @property
    def partner_ids(self) -> frozenset[str]:
        """Partners the caller may see."""
        own = frozenset({self.own_partner_id}) if self.own_partner_id else frozenset()
        return own | self.administered

    def sees(self, tenant: Tenant) -> bool:
        return tenant.id == self.tenant_id or self.administers(tenant)

    def administers(self, tenant: Tenant) -> bool:
        return tenant.partner_id is not None and tenant.partner_id in self.administered

    def require(self, scope: str) -> None:
        if not self.principal.has(scope):
            raise MissingScopeError(scope)


async def get_viewer(principal: AnyPrincipal, session: SessionDep) -> Viewer:
    if principal.kind != "jwt" or principal.user_id is None:
        raise ForbiddenError(NEEDS_USER)
    tenant = await get_tenant(session, principal.tenant_id)
    return Viewer(
        principal, principal.user_id, tenant.partner_id, await administered_partners(session, principal.user_id)
    )


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def viewer_with(scope: str) -> Callable[..., Awaitable[Viewer]]:
    """A signed-in user holding ``scope`` in the active tenant."""

    async def dependency(viewer: ViewerDep) -> Viewer:
        viewer.require(scope)
        return viewer

    dependency.__name__ = f"viewer_with_{scope.replace('.', '_')}"
    return dependency


UserAdmin = Annotated[Viewer, Depends(viewer_with("admin.users"))]


async def visible_tenant(session: SessionDep, viewer: Viewer, tenant_ref: str) -> Tenant:
    """A tenant the viewer may see, by local or ScaiKey id; any other is 404 (existence is not revealed)."""
    tenant = await resolve_tenant(session, tenant_ref)
    if tenant is None or not viewer.sees(tenant):
        raise NotFoundError(f"Tenant not found: {tenant_ref}")
    return tenant
