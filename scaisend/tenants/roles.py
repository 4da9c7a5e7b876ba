"""Roles and the permission catalogue of a tenant (docs/identity.md, docs/domains.md, docs/compose.md, docs/sending.md, D4): the default ``admin``, ``developer`` and
``viewer`` roles every tenant gets, and custom roles. Nobody can give a role more than they hold themselves (D51)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.scopes import unknown_scopes
from scaisend.errors import BadRequestError, ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Permission, Role, role_permissions
from scaisend.tenants.service import ensure_permissions


async def list_permissions(session: AsyncSession, category: str | None = None) -> Sequence[Permission]:
    await ensure_permissions(session)
    stmt = select(Permission).order_by(Permission.category, Permission.name)
    if category:
        stmt = stmt.where(Permission.category == category)
    return (await session.scalars(stmt)).all()


async def get_permission(session: AsyncSession, permission_ref: str) -> Permission:
    """A permission by id or by name (``mail.send``)."""
    await ensure_permissions(session)
    found = await session.scalar(
        select(Permission).where(or_(Permission.id == permission_ref, Permission.name == permission_ref))
    )
    if found is None:
        raise NotFoundError(f"Permission not found: {permission_ref}")
    return found


async def list_roles(session: AsyncSession, tenant_id: str) -> Sequence[Role]:
    return (await session.scalars(select(Role).where(Role.tenant_id == tenant_id).order_by(Role.name))).all()


async def get_role(session: AsyncSession, tenant_id: str, role_ref: str) -> Role:
    """A role of the tenant by id or name; another tenant's role is 404."""
    role = await session.scalar(
        select(Role).where(Role.tenant_id == tenant_id, or_(Role.id == role_ref, Role.name == role_ref))
    )
    if role is None:
        raise NotFoundError(f"Role not found: {role_ref}")
    return role


async def set_role_permissions(session: AsyncSession, role: Role, names: Sequence[str]) -> None:
    unknown = unknown_scopes(list(names))
    if unknown:
        raise BadRequestError(f"Unknown permission: {', '.join(unknown)}")
    catalogue = await ensure_permissions(session)
    await session.execute(delete(role_permissions).where(role_permissions.c.role_id == role.id))
    if names:
        await session.execute(
            role_permissions.insert(),
            [{"role_id": role.id, "permission_id": catalogue[name].id} for name in sorted(set(names))],
        )
    await session.flush()


async def create_role(
    session: AsyncSession, tenant_id: str, name: str, description: str, permissions: Sequence[str]
) -> Role:
    if await session.scalar(select(Role.id).where(Role.tenant_id == tenant_id, Role.name == name)):
        raise ConflictError(f"Role already exists: {name}")
    role = Role(id=new_id("role"), tenant_id=tenant_id, name=name, description=description)
    session.add(role)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name won
        raise ConflictError(f"Role already exists: {name}") from exc
    await set_role_permissions(session, role, permissions)
    return role


async def update_role(
    session: AsyncSession,
    role: Role,
    *,
    name: str | None,
    description: str | None,
    permissions: Sequence[str] | None,
) -> Role:
    if name is not None and name != role.name:
        if await session.scalar(select(Role.id).where(Role.tenant_id == role.tenant_id, Role.name == name)):
            raise ConflictError(f"Role already exists: {name}")
        role.name = name
    if description is not None:
        role.description = description
    if permissions is not None:
        await set_role_permissions(session, role, permissions)
    await session.flush()
    return role


async def delete_role(session: AsyncSession, role: Role) -> None:
    """Delete a role; its user and group assignments go with it (foreign keys cascade)."""
    await session.delete(role)
    await session.flush()
