"""Tenant bootstrap and lookups (D1, spec §4.3): creating a tenant also creates its default roles
(``admin``, ``developer``, ``viewer``) over the permission catalogue."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.scopes import DEFAULT_ROLES, SCOPES
from scaisend.errors import ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Permission, Role, Tenant, User, UserRole, role_permissions


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "tenant"


async def ensure_permissions(session: AsyncSession) -> dict[str, Permission]:
    """Make the ``permissions`` table match the scope catalogue; return permissions by name."""
    existing = {p.name: p for p in (await session.scalars(select(Permission))).all()}
    for scope in SCOPES:
        if scope.name not in existing:
            perm = Permission(
                id=new_id("perm"), name=scope.name, category=scope.category, description=scope.description
            )
            session.add(perm)
            existing[scope.name] = perm
    await session.flush()
    return existing


async def create_tenant(
    session: AsyncSession,
    name: str,
    *,
    slug: str | None = None,
    partner_id: str | None = None,
    scaikey_id: str | None = None,
) -> Tenant:
    slug = slug or slugify(name)
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise ConflictError(f"Tenant slug already exists: {slug}")
    tenant = Tenant(id=new_id("tnt"), name=name, slug=slug, partner_id=partner_id, scaikey_id=scaikey_id, settings={})
    session.add(tenant)
    await session.flush()
    permissions = await ensure_permissions(session)
    for role_name, scope_names in DEFAULT_ROLES.items():
        role = Role(id=new_id("role"), tenant_id=tenant.id, name=role_name, description=f"default {role_name} role")
        session.add(role)
        await session.flush()
        await session.execute(
            role_permissions.insert(),
            [{"role_id": role.id, "permission_id": permissions[s].id} for s in scope_names],
        )
    await session.flush()
    return tenant


async def resolve_tenant(session: AsyncSession, tenant_ref: str) -> Tenant | None:
    """A tenant by local id or ScaiKey id (``tnt_...`` either way)."""
    return await session.scalar(select(Tenant).where(or_(Tenant.id == tenant_ref, Tenant.scaikey_id == tenant_ref)))


async def get_tenant(session: AsyncSession, tenant_id: str) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFoundError(f"Tenant not found: {tenant_id}")
    return tenant


async def resolve_user(session: AsyncSession, subject: str) -> User | None:
    return await session.scalar(select(User).where(or_(User.id == subject, User.scaikey_id == subject)))


async def user_permissions(session: AsyncSession, user_id: str, tenant_id: str) -> frozenset[str]:
    """Union of the permissions of the user's roles in the tenant."""
    stmt = (
        select(Permission.name)
        .join(role_permissions, role_permissions.c.permission_id == Permission.id)
        .join(UserRole, UserRole.role_id == role_permissions.c.role_id)
        .where(UserRole.user_id == user_id, UserRole.tenant_id == tenant_id)
    )
    return frozenset((await session.scalars(stmt)).all())


async def assign_role(session: AsyncSession, user_id: str, tenant_id: str, role_name: str) -> None:
    role = await session.scalar(select(Role).where(Role.tenant_id == tenant_id, Role.name == role_name))
    if role is None:
        raise NotFoundError(f"Role not found: {role_name}")
    session.add(UserRole(user_id=user_id, role_id=role.id, tenant_id=tenant_id))
    await session.flush()
