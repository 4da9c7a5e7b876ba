"""Partners (docs/architecture.md, docs/identity.md, docs/domains.md, docs/compose.md): groups of tenants, created by the operator or mirrored from ScaiKey events. A
partner admin (``partner_admins``) sees and manages every tenant of the partner and reads its aggregate stats (D50)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Partner, PartnerAdmin, Tenant, User
from scaisend.tenants.naming import slugify


async def create_partner(
    session: AsyncSession, name: str, *, slug: str | None = None, scaikey_id: str | None = None
) -> Partner:
    slug = slug or slugify(name, "partner")
    if await session.scalar(select(Partner.id).where(Partner.slug == slug)):
        raise ConflictError(f"Partner slug already exists: {slug}")
    partner = Partner(id=new_id("prt"), name=name, slug=slug, scaikey_id=scaikey_id)
    session.add(partner)
    await session.flush()
    return partner


async def resolve_partner(session: AsyncSession, partner_ref: str) -> Partner | None:
    """A partner by local id or ScaiKey id."""
    return await session.scalar(
        select(Partner).where(or_(Partner.id == partner_ref, Partner.scaikey_id == partner_ref))
    )


async def find_partner(session: AsyncSession, partner_ref: str) -> Partner:
    partner = await resolve_partner(session, partner_ref)
    if partner is None:
        raise NotFoundError(f"Partner not found: {partner_ref}")
    return partner


async def list_partners(session: AsyncSession, only: Sequence[str] | None = None) -> Sequence[Partner]:
    """Every partner, or only those with the given local ids."""
    stmt = select(Partner).order_by(Partner.name, Partner.id)
    if only is not None:
        stmt = stmt.where(Partner.id.in_(list(only)))
    return (await session.scalars(stmt)).all()


async def partner_tenant_ids(session: AsyncSession, partner_id: str) -> list[str]:
    return list((await session.scalars(select(Tenant.id).where(Tenant.partner_id == partner_id))).all())


async def administered_partners(session: AsyncSession, user_id: str) -> frozenset[str]:
    rows = await session.scalars(select(PartnerAdmin.partner_id).where(PartnerAdmin.user_id == user_id))
    return frozenset(rows.all())


async def partner_admins(session: AsyncSession, partner_id: str) -> Sequence[User]:
    stmt = (
        select(User)
        .join(PartnerAdmin, PartnerAdmin.user_id == User.id)
        .where(PartnerAdmin.partner_id == partner_id)
        .order_by(User.email, User.id)
    )
    return (await session.scalars(stmt)).all()


async def add_partner_admin(session: AsyncSession, partner: Partner, user: User) -> None:
    if await session.get(PartnerAdmin, (partner.id, user.id)) is None:
        session.add(PartnerAdmin(partner_id=partner.id, user_id=user.id))
        await session.flush()


async def remove_partner_admin(session: AsyncSession, partner_id: str, user_id: str) -> None:
    row = await session.get(PartnerAdmin, (partner_id, user_id))
    if row is not None:
        await session.delete(row)
        await session.flush()
