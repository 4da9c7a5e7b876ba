"""``/api/admin/permissions``, ``/roles``, ``/users`` and ``/groups`` of the caller's tenant (docs/identity.md, docs/domains.md, docs/compose.md, docs/sending.md, D4,
D51). Routes only.

Reading permissions and roles needs a signed-in user; everything about users and groups, and every change, needs
``admin.users``. Nobody grants more than they hold: a role, or a role assignment or group mapping, whose permissions
go beyond the caller's own is 403, so ``admin.users`` alone cannot be turned into ``admin``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.admin.schemas import (
    GroupCreate,
    GroupOut,
    GroupPatch,
    HeldRoleOut,
    PermissionOut,
    RoleCreate,
    RoleOut,
    RolePatch,
    UserCreate,
    UserOut,
    UserPatch,
)
from scaisend.admin.viewer import UserAdmin, Viewer, ViewerDep
from scaisend.api.deps import SessionDep
from scaisend.auth.scopes import unknown_scopes
from scaisend.errors import BadRequestError, ForbiddenError
from scaisend.models import Group, Role, User
from scaisend.tenants import access, roles, users

router = APIRouter(prefix="/api/admin", tags=["admin: roles, users and groups"])
NO_CONTENT = Response(status_code=status.HTTP_204_NO_CONTENT)


def _check_grantable(viewer: Viewer, permissions: set[str] | frozenset[str]) -> None:
    unknown = unknown_scopes(sorted(permissions))
    if unknown:
        raise BadRequestError(f"Unknown permission: {', '.join(unknown)}")
    excess = sorted(set(permissions) - viewer.principal.scopes)
    if excess:
        raise ForbiddenError(f"Cannot grant permissions you do not hold: {', '.join(excess)}")


async def _role_out(session: AsyncSession, role: Role, with_permissions: bool = True) -> dict[str, Any]:
    perms = (await access.permissions_by_role(session, [role.id]))[role.id] if with_permissions else None
    return RoleOut(id=role.id, name=role.name, description=role.description, permissions=perms).model_dump()


async def user_out(session: AsyncSession, user: User, tenant_id: str) -> dict[str, Any]:
    held = await access.held_roles(session, user.id, tenant_id)
    groups = await access.user_group_ids(session, user.id, tenant_id)
    return UserOut(
        id=user.id,
        scaikey_id=user.scaikey_id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        display_name=user.display_name,
        tenant_id=user.tenant_id,
        roles=[HeldRoleOut(id=h.role_id, name=h.name, via=h.via) for h in held],
        groups=sorted(groups),
        permissions=sorted(await access.role_permission_names(session, (h.role_id for h in held))),
    ).model_dump(mode="json")


async def _group_out(session: AsyncSession, group: Group) -> dict[str, Any]:
    return GroupOut(
        id=group.id,
        scaikey_id=group.scaikey_id,
        name=group.name,
        parent_id=group.parent_id,
        members=await users.group_members(session, group),
        roles=await users.group_role_ids(session, group),
    ).model_dump()


# --- permissions and roles -------------------------------------------------------------------------------------------
@router.get("/permissions")
async def list_permissions(_viewer: ViewerDep, session: SessionDep, category: str | None = None) -> dict[str, Any]:
    rows = await roles.list_permissions(session, category)
    return {"data": [PermissionOut.model_validate(p).model_dump() for p in rows]}


@router.get("/permissions/{permission_id}")
async def get_permission(permission_id: str, _viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    return {"data": PermissionOut.model_validate(await roles.get_permission(session, permission_id)).model_dump()}


@router.get("/roles")
async def list_roles(viewer: ViewerDep, session: SessionDep, include_permissions: bool = False) -> dict[str, Any]:
    rows = await roles.list_roles(session, viewer.tenant_id)
    return {"data": [await _role_out(session, r, include_permissions) for r in rows]}


@router.post("/roles", status_code=status.HTTP_201_CREATED)
async def create_role(body: RoleCreate, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    _check_grantable(viewer, set(body.permissions))
    role = await roles.create_role(session, viewer.tenant_id, body.name, body.description, body.permissions)
    return {"data": await _role_out(session, role)}


@router.get("/roles/{role_id}")
async def get_role(role_id: str, viewer: ViewerDep, session: SessionDep) -> dict[str, Any]:
    return {"data": await _role_out(session, await roles.get_role(session, viewer.tenant_id, role_id))}


@router.patch("/roles/{role_id}")
async def patch_role(role_id: str, body: RolePatch, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    role = await roles.get_role(session, viewer.tenant_id, role_id)
    if body.permissions is not None:
        _check_grantable(viewer, set(body.permissions))
    role = await roles.update_role(
        session, role, name=body.name, description=body.description, permissions=body.permissions
    )
    return {"data": await _role_out(session, role)}


@router.delete("/roles/{role_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_role(role_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    role = await roles.get_role(session, viewer.tenant_id, role_id)
    _check_grantable(viewer, await access.role_permission_names(session, [role.id]))
    await roles.delete_role(session, role)
    return NO_CONTENT


# --- users -----------------------------------------------------------------------------------------------------------
@router.get("/users")
async def list_users(viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    rows = await users.list_users(session, viewer.tenant_id)
    return {"data": [await user_out(session, u, viewer.tenant_id) for u in rows]}


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    user = await users.create_user(
        session,
        viewer.tenant_id,
        body.email,
        first_name=body.first_name,
        last_name=body.last_name,
        display_name=body.display_name,
        scaikey_id=body.scaikey_id,
    )
    return {"data": await user_out(session, user, viewer.tenant_id)}


@router.get("/users/{user_id}")
async def get_user(user_id: str, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    user = await users.get_user(session, viewer.tenant_id, user_id)
    return {"data": await user_out(session, user, viewer.tenant_id)}


@router.patch("/users/{user_id}")
async def patch_user(user_id: str, body: UserPatch, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    user = await users.get_user(session, viewer.tenant_id, user_id)
    users.update_profile(user, body.model_dump(exclude_unset=True))
    await session.flush()
    return {"data": await user_out(session, user, viewer.tenant_id)}


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_user(user_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    """Take the user out of the tenant (roles, memberships, sign-ins); the user is deleted when it belongs nowhere
    else. Nobody removes themselves, or a user holding permissions they lack."""
    user = await users.get_user(session, viewer.tenant_id, user_id)
    if user.id == viewer.user_id:
        raise BadRequestError("You cannot remove yourself")
    _check_grantable(viewer, await access.effective_permissions(session, user.id, viewer.tenant_id))
    await users.remove_from_tenant(session, user, viewer.tenant_id)
    return NO_CONTENT


async def _grantable_role(session: AsyncSession, viewer: Viewer, role_id: str) -> Role:
    """The tenant's role ``role_id``, which the viewer may give or take away only when they hold every permission it
    grants (the same check for users and for groups)."""
    role = await roles.get_role(session, viewer.tenant_id, role_id)
    _check_grantable(viewer, await access.role_permission_names(session, [role.id]))
    return role


@router.post("/users/{user_id}/roles/{role_id}", status_code=status.HTTP_204_NO_CONTENT)
async def assign_role(user_id: str, role_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    user = await users.get_user(session, viewer.tenant_id, user_id)
    await users.grant_role(session, user, await _grantable_role(session, viewer, role_id))
    return NO_CONTENT


@router.delete("/users/{user_id}/roles/{role_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_role(user_id: str, role_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    user = await users.get_user(session, viewer.tenant_id, user_id)
    await users.revoke_role(session, user, await _grantable_role(session, viewer, role_id))
    return NO_CONTENT


# --- groups ----------------------------------------------------------------------------------------------------------
@router.get("/groups")
async def list_groups(viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    return {"data": [await _group_out(session, g) for g in await users.list_groups(session, viewer.tenant_id)]}


@router.post("/groups", status_code=status.HTTP_201_CREATED)
async def create_group(body: GroupCreate, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    parent = await users.get_group(session, viewer.tenant_id, body.parent_id) if body.parent_id else None
    group = await users.create_group(session, viewer.tenant_id, body.name, parent=parent)
    return {"data": await _group_out(session, group)}


@router.get("/groups/{group_id}")
async def get_group(group_id: str, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    return {"data": await _group_out(session, await users.get_group(session, viewer.tenant_id, group_id))}


@router.patch("/groups/{group_id}")
async def patch_group(group_id: str, body: GroupPatch, viewer: UserAdmin, session: SessionDep) -> dict[str, Any]:
    group = await users.get_group(session, viewer.tenant_id, group_id)
    if body.name is not None:
        group.name = body.name
    if body.parent_id is not None:
        parent = await users.get_group(session, viewer.tenant_id, body.parent_id) if body.parent_id else None
        await users.set_parent(session, group, parent)
    await session.flush()
    return {"data": await _group_out(session, group)}


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(group_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    group = await users.get_group(session, viewer.tenant_id, group_id)
    await session.delete(group)
    await session.flush()
    return NO_CONTENT


@router.post("/groups/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def add_member(group_id: str, user_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    group = await users.get_group(session, viewer.tenant_id, group_id)
    await users.add_member(session, group, await users.get_user(session, viewer.tenant_id, user_id))
    return NO_CONTENT


@router.delete("/groups/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(group_id: str, user_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    group = await users.get_group(session, viewer.tenant_id, group_id)
    await users.remove_member(session, group, await users.get_user(session, viewer.tenant_id, user_id))
    return NO_CONTENT


@router.post("/groups/{group_id}/roles/{role_id}", status_code=status.HTTP_204_NO_CONTENT)
async def map_role(group_id: str, role_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    """Members of the group, and of every group nested below it, hold the role."""
    group = await users.get_group(session, viewer.tenant_id, group_id)
    await users.map_role(session, group, await _grantable_role(session, viewer, role_id))
    return NO_CONTENT


@router.delete("/groups/{group_id}/roles/{role_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unmap_role(group_id: str, role_id: str, viewer: UserAdmin, session: SessionDep) -> Response:
    group = await users.get_group(session, viewer.tenant_id, group_id)
    await users.unmap_role(session, group, await _grantable_role(session, viewer, role_id))
    return NO_CONTENT
