"""Tenant bootstrap and lookups (D1, docs/architecture.md): creating a tenant also creates its default roles
(``admin``, ``developer``, ``viewer``) over the permission catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.scopes import DEFAULT_ROLES, SCOPES
from scaisend.db.config_cache import ConfigCache
from scaisend.errors import BadRequestError, ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Permission, Role, Tenant, User, UserRole, role_permissions
from scaisend.tenants.naming import slugify


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


async def assign_role(session: AsyncSession, user_id: str, tenant_id: str, role_name: str) -> None:
    role = await session.scalar(select(Role).where(Role.tenant_id == tenant_id, Role.name == role_name))
    if role is None:
        raise NotFoundError(f"Role not found: {role_name}")
    if await session.get(UserRole, (user_id, role.id)) is None:
        session.add(UserRole(user_id=user_id, role_id=role.id, tenant_id=tenant_id))
        await session.flush()


async def list_tenants(
    session: AsyncSession, *, partner_id: str | None = None, ids: Sequence[str] | None = None
) -> Sequence[Tenant]:
    """Tenants by name; only those of a partner, or with the given ids, when asked."""
    stmt = select(Tenant).order_by(Tenant.name, Tenant.id)
    if partner_id is not None:
        stmt = stmt.where(Tenant.partner_id == partner_id)
    if ids is not None:
        stmt = stmt.where(Tenant.id.in_(list(ids)))
    return (await session.scalars(stmt)).all()


async def find_tenant(session: AsyncSession, tenant_ref: str) -> Tenant:
    tenant = await resolve_tenant(session, tenant_ref)
    if tenant is None:
        raise NotFoundError(f"Tenant not found: {tenant_ref}")
    return tenant


def merge_settings(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7396) at the top level: a key set to null is removed, others replace (D50)."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def update_tenant(
    session: AsyncSession, tenant: Tenant, *, name: str | None = None, settings: dict[str, Any] | None = None
) -> Tenant:
    if name is not None:
        if not name.strip():
            raise BadRequestError("name must not be empty")
        tenant.name = name.strip()
    if settings is not None:
        tenant.settings = merge_settings(tenant.settings or {}, settings)
    await session.flush()
    return tenant


TENANT_SUSPENDED_REASON = "Tenant suspended: the message was not sent"


_SUSPENDED: ConfigCache[str, bool] = ConfigCache()  # by tenant id (D82)


async def suspension_reason(session: AsyncSession, tenant_id: str) -> str | None:
    """The ``error_message`` of a message stopped because its tenant is suspended (D52), or ``None``: compose and
    delivery both ask, where they load the message (cached per process, D82)."""

    async def load() -> bool:
        return bool(await session.scalar(select(Tenant.suspended).where(Tenant.id == tenant_id)))

    return TENANT_SUSPENDED_REASON if await _SUSPENDED.get(tenant_id, load) else None


async def set_suspended(session: AsyncSession, tenant: Tenant, suspended: bool) -> Tenant:
    """Suspend or resume a tenant: while suspended its credentials get 403 and compose and delivery stop its mail
    (D52)."""
    tenant.suspended = suspended
    await session.flush()
    return tenant
