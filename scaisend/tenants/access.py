"""Who may do what in a tenant (docs/sending.md, D4, D51): roles hold permissions; a user holds roles directly
(``user_roles``) or through groups (``group_roles``), where a role mapped to a group is also held by the members of
every group nested below it. Effective permissions are the union over all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import Group, GroupMember, GroupRole, Permission, Role, UserRole, role_permissions

MAX_GROUP_DEPTH = 32  # a nesting deeper than this is cut (and a cycle can never form, see groups.set_parent)


@dataclass(frozen=True)
class HeldRole:
    role_id: str
    name: str
    via: str  # "direct" or "group:<group name>"


async def _tenant_groups(session: AsyncSession, tenant_id: str) -> dict[str, Group]:
    return {g.id: g for g in (await session.scalars(select(Group).where(Group.tenant_id == tenant_id))).all()}


def ancestors(groups: dict[str, Group], group_id: str) -> list[str]:
    """``group_id`` and every group above it, nearest first."""
    chain: list[str] = []
    current: str | None = group_id
    while current is not None and current in groups and current not in chain and len(chain) < MAX_GROUP_DEPTH:
        chain.append(current)
        current = groups[current].parent_id
    return chain


async def user_group_ids(session: AsyncSession, user_id: str, tenant_id: str) -> list[str]:
    rows = await session.scalars(
        select(GroupMember.group_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id == user_id, Group.tenant_id == tenant_id)
    )
    return list(rows.all())


async def held_roles(session: AsyncSession, user_id: str, tenant_id: str) -> list[HeldRole]:
    """Every role the user holds in the tenant and how: directly, or through which group."""
    held: list[HeldRole] = []
    direct = await session.execute(
        select(Role.id, Role.name)
        .join(UserRole, UserRole.role_id == Role.id)
        .where(UserRole.user_id == user_id, UserRole.tenant_id == tenant_id)
    )
    held.extend(HeldRole(role_id, name, "direct") for role_id, name in direct)
    groups = await _tenant_groups(session, tenant_id)
    inherited: set[str] = set()
    for group_id in await user_group_ids(session, user_id, tenant_id):
        inherited.update(ancestors(groups, group_id))
    if inherited:
        mapped = await session.execute(
            select(Role.id, Role.name, GroupRole.group_id)
            .join(GroupRole, GroupRole.role_id == Role.id)
            .where(GroupRole.group_id.in_(sorted(inherited)), Role.tenant_id == tenant_id)
        )
        held.extend(HeldRole(role_id, name, f"group:{groups[group_id].name}") for role_id, name, group_id in mapped)
    return sorted(held, key=lambda h: (h.name, h.via))


async def role_permission_names(session: AsyncSession, role_ids: Iterable[str]) -> frozenset[str]:
    ids = sorted(set(role_ids))
    if not ids:
        return frozenset()
    rows = await session.scalars(
        select(Permission.name)
        .join(role_permissions, role_permissions.c.permission_id == Permission.id)
        .where(role_permissions.c.role_id.in_(ids))
    )
    return frozenset(rows.all())


async def effective_permissions(session: AsyncSession, user_id: str, tenant_id: str) -> frozenset[str]:
    return await role_permission_names(session, (h.role_id for h in await held_roles(session, user_id, tenant_id)))


async def permissions_by_role(session: AsyncSession, role_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {role_id: [] for role_id in role_ids}
    if not role_ids:
        return found
    rows = await session.execute(
        select(role_permissions.c.role_id, Permission.name)
        .join(Permission, Permission.id == role_permissions.c.permission_id)
        .where(role_permissions.c.role_id.in_(list(role_ids)))
    )
    for role_id, name in rows:
        found[role_id].append(name)
    return {role_id: sorted(names) for role_id, names in found.items()}
