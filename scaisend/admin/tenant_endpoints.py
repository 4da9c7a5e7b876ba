"""``/api/admin/partners`` and ``/api/admin/tenants`` (docs/identity.md, docs/domains.md, docs/compose.md, D50): list, get (local or ScaiKey id), patch name
and settings, suspend and resume; a partner's aggregate stats in ``/v3/stats``' shape and its admins. Routes only.

Visibility: a signed-in user sees its own tenant and its tenant's partner; a partner admin also sees every tenant of
its partners. A tenant the caller may not see is 404. Patching the caller's own tenant needs ``admin.settings``;
a partner admin may patch, suspend and resume the partner's tenants, and nobody suspends the tenant they are signed
in to (that would lock them out mid-request)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from scaisend.admin.schemas import PartnerOut, TenantOut, TenantPatch
from scaisend.admin.viewer import Viewer, ViewerDep, visible_tenant
from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.errors import BadRequestError, ForbiddenError, NotFoundError
from scaisend.models import Partner, Tenant, User
from scaisend.stats import service as stats_service
from scaisend.stats.schemas import GlobalStatsDay
from scaisend.tenants import partners as partner_service
from scaisend.tenants import service as tenant_service
from scaisend.tenants import users

router = APIRouter(prefix="/api/admin", tags=["admin: partners and tenants"])


def _tenant(tenant: Tenant) -> dict[str, Any]:
    return TenantOut.model_validate(tenant).model_dump(mode="json")


async def _visible_partner(session: SessionDep, viewer: Viewer, partner_ref: str) -> Partner:
    partner = await partner_service.resolve_partner(session, partner_ref)
    if partner is None or partner.id not in viewer.partner_ids:
        raise NotFoundError(f"Partner not found: {partner_ref}")
    return partner


@router.get("/partners")
async def list_partners(viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    rows = await partner_service.list_partners(session, sorted(viewer.partner_ids))
    return {"data": [PartnerOut.model_validate(p).model_dump(mode="json") for p in rows]}


@router.get("/partners/{partner_id}")
async def get_partner(partner_id: str, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    partner = await _visible_partner(session, viewer, partner_id)
    return {"data": PartnerOut.model_validate(partner).model_dump(mode="json")}


@router.get("/partners/{partner_id}/stats", response_model=list[GlobalStatsDay])
async def partner_stats(
    partner_id: str,
    viewer: ViewerDep,
    session: SessionDep,
    resources: ResourcesDep,
    start_date: Annotated[str | None, Query(description="YYYY-MM-DD or today")] = None,
    end_date: Annotated[str | None, Query(description="YYYY-MM-DD or today")] = None,
    aggregated_by: Annotated[str | None, Query(description="day (default), week or month")] = None,
) -> list[GlobalStatsDay]:
    """The sum of every tenant of the partner, in ``GET /v3/stats``' shape; partner admins only."""
    partner = await _visible_partner(session, viewer, partner_id)
    if partner.id not in viewer.administered:
        raise ForbiddenError("Only a partner admin reads a partner's stats")
    span = stats_service.date_range(start_date, end_date, resources.clock.now().date())
    tenant_ids = await partner_service.partner_tenant_ids(session, partner.id)
    buckets = await stats_service.global_stats(
        session, tenant_ids, span, stats_service.check_aggregation(aggregated_by)
    )
    return [GlobalStatsDay.of(day, values) for day, values in buckets]


async def _administered_partner(session: SessionDep, viewer: Viewer, partner_ref: str) -> Partner:
    partner = await _visible_partner(session, viewer, partner_ref)
    if partner.id not in viewer.administered:
        raise ForbiddenError("Only a partner admin manages the partner's admins")
    return partner


async def _partner_user(session: SessionDep, partner: Partner, user_ref: str) -> User:
    """A user who belongs to, or holds a role or membership in, one of the partner's tenants."""
    for tenant_id in await partner_service.partner_tenant_ids(session, partner.id):
        try:
            return await users.get_user(session, tenant_id, user_ref)
        except NotFoundError:
            continue
    raise NotFoundError(f"User not found: {user_ref}")


@router.get("/partners/{partner_id}/admins")
async def list_partner_admins(partner_id: str, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    partner = await _administered_partner(session, viewer, partner_id)
    rows = await partner_service.partner_admins(session, partner.id)
    return {"data": [{"id": u.id, "email": u.email, "display_name": u.display_name} for u in rows]}


@router.post("/partners/{partner_id}/admins/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def add_partner_admin(partner_id: str, user_id: str, viewer: ViewerDep, session: SessionDep) -> Response:
    """Make a user of one of the partner's tenants an admin of the partner."""
    partner = await _administered_partner(session, viewer, partner_id)
    await partner_service.add_partner_admin(session, partner, await _partner_user(session, partner, user_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/partners/{partner_id}/admins/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_partner_admin(partner_id: str, user_id: str, viewer: ViewerDep, session: SessionDep) -> Response:
    """Take a user's partner admin rights away; not your own (the operator's CLI can)."""
    partner = await _administered_partner(session, viewer, partner_id)
    user = await _partner_user(session, partner, user_id)
    if user.id == viewer.user_id:
        raise BadRequestError("You cannot remove your own partner admin rights")
    await partner_service.remove_partner_admin(session, partner.id, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tenants")
async def list_tenants(
    viewer: ViewerDep, session: SessionDep, partner_id: Annotated[str | None, Query(max_length=100)] = None
) -> dict[str, Any]:
    partner_filter = None
    if partner_id is not None:
        partner = await partner_service.resolve_partner(session, partner_id)
        if partner is None or partner.id not in viewer.partner_ids:
            return {"data": []}
        partner_filter = partner.id
    visible = {viewer.tenant_id}
    for administered in sorted(viewer.administered):
        visible.update(await partner_service.partner_tenant_ids(session, administered))
    rows = await tenant_service.list_tenants(session, partner_id=partner_filter, ids=sorted(visible))
    return {"data": [_tenant(t) for t in rows]}


@router.get("/tenants/{tenant_id}")
async def get_tenant(tenant_id: str, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    return {"data": _tenant(await visible_tenant(session, viewer, tenant_id))}


@router.patch("/tenants/{tenant_id}")
async def patch_tenant(tenant_id: str, body: TenantPatch, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    tenant = await visible_tenant(session, viewer, tenant_id)
    if not viewer.administers(tenant):
        viewer.require("admin.settings")
    updated = await tenant_service.update_tenant(session, tenant, name=body.name, settings=body.settings)
    return {"data": _tenant(updated)}


async def _suspension(session: SessionDep, viewer: Viewer, tenant_ref: str, suspended: bool) -> dict[str, Any]:
    tenant = await visible_tenant(session, viewer, tenant_ref)
    if not viewer.administers(tenant):
        raise ForbiddenError("Only a partner admin or the operator suspends or resumes a tenant")
    if suspended and tenant.id == viewer.tenant_id:
        raise BadRequestError("You cannot suspend the tenant you are signed in to")
    return {"data": _tenant(await tenant_service.set_suspended(session, tenant, suspended))}


@router.post("/tenants/{tenant_id}/suspend")
async def suspend_tenant(tenant_id: str, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    """Stop the tenant at every stage: its credentials get 403 and compose stops its queued mail (D52)."""
    return await _suspension(session, viewer, tenant_id, True)


@router.post("/tenants/{tenant_id}/resume")
async def resume_tenant(tenant_id: str, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    return await _suspension(session, viewer, tenant_id, False)
