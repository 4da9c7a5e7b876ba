"""Users and groups of a tenant (docs/identity.md, docs/domains.md, docs/compose.md, docs/architecture.md, docs/sending.md, D4): users are created by the operator, by an admin through the
API, at first sign-in from the ID token's claims, or mirrored from ScaiKey events; groups nest (``parent_id``) and
carry role mappings (D51)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError, ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Group, GroupMember, GroupRole, RefreshToken, Role, User, UserRole
from scaisend.tenants.access import MAX_GROUP_DEPTH

PROFILE_FIELDS = ("email", "first_name", "last_name", "display_name")


def _in_tenant(tenant_id: str) -> ColumnElement[bool]:
    """Users of a tenant: those who belong to it, or hold a role or a group membership there."""
    return or_(
        User.tenant_id == tenant_id,
        User.id.in_(select(UserRole.user_id).where(UserRole.tenant_id == tenant_id)),
        User.id.in_(
            select(GroupMember.user_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.tenant_id == tenant_id)
        ),
    )


async def create_user(
    session: AsyncSession,
    tenant_id: str | None,
    email: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    display_name: str | None = None,
    scaikey_id: str | None = None,
) -> User:
    if scaikey_id and await session.scalar(select(User.id).where(User.scaikey_id == scaikey_id)):
        raise ConflictError(f"User already exists: {scaikey_id}")
    user = User(
        id=new_id("usr"),
        tenant_id=tenant_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
        display_name=display_name,
        scaikey_id=scaikey_id,
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession, tenant_id: str) -> Sequence[User]:
    return (await session.scalars(select(User).where(_in_tenant(tenant_id)).order_by(User.email, User.id))).all()


async def get_user(session: AsyncSession, tenant_id: str, user_ref: str) -> User:
    """A user of the tenant by id or ScaiKey id; anyone else is 404."""
    user = await session.scalar(
        select(User).where(or_(User.id == user_ref, User.scaikey_id == user_ref), _in_tenant(tenant_id))
    )
    if user is None:
        raise NotFoundError(f"User not found: {user_ref}")
    return user


async def find_user(session: AsyncSession, user_ref: str) -> User:
    """Any user by id, ScaiKey id or email (the operator's CLI); an email several users share is refused."""
    user = await session.scalar(select(User).where(or_(User.id == user_ref, User.scaikey_id == user_ref)))
    if user is not None:
        return user
    found = (await session.scalars(select(User).where(User.email == user_ref).limit(2))).all()
    if len(found) > 1:
        raise BadRequestError(f"Several users have the email {user_ref}: give the user id")
    if not found:
        raise NotFoundError(f"User not found: {user_ref}")
    return found[0]


def update_profile(user: User, values: Mapping[str, str | None]) -> None:
    for name in PROFILE_FIELDS:
        if name in values and values[name] is not None:
            setattr(user, name, values[name])


async def upsert_scaikey_user(
    session: AsyncSession, scaikey_id: str, profile: Mapping[str, str | None], tenant_id: str | None, *, move: bool
) -> User:
    """The user ScaiKey knows as ``scaikey_id`` (an identity event, a sign-in's ``sub``): created with ``profile``
    (:data:`PROFILE_FIELDS`) in ``tenant_id``, or brought up to date with the profile fields that have a value and
    with ``tenant_id`` when given, always if ``move``, otherwise only when the user belongs to no tenant yet."""
    user = await session.scalar(select(User).where(User.scaikey_id == scaikey_id))
    if user is None:
        return await create_user(
            session,
            tenant_id,
            profile.get("email") or "",
            first_name=profile.get("first_name"),
            last_name=profile.get("last_name"),
            display_name=profile.get("display_name"),
            scaikey_id=scaikey_id,
        )
    update_profile(user, {name: value for name, value in profile.items() if value})
    if tenant_id is not None and (move or user.tenant_id is None):
        user.tenant_id = tenant_id
    return user


async def grant_role(session: AsyncSession, user: User, role: Role) -> None:
    if await session.get(UserRole, (user.id, role.id)) is None:
        session.add(UserRole(user_id=user.id, role_id=role.id, tenant_id=role.tenant_id))
        await session.flush()


async def revoke_role(session: AsyncSession, user: User, role: Role) -> None:
    row = await session.get(UserRole, (user.id, role.id))
    if row is not None:
        await session.delete(row)
        await session.flush()


# --- groups ----------------------------------------------------------------------------------------------------------
async def list_groups(session: AsyncSession, tenant_id: str) -> Sequence[Group]:
    return (await session.scalars(select(Group).where(Group.tenant_id == tenant_id).order_by(Group.name))).all()


async def get_group(session: AsyncSession, tenant_id: str, group_ref: str) -> Group:
    """A group of the tenant by id, ScaiKey id or name."""
    group = await session.scalar(
        select(Group).where(
            Group.tenant_id == tenant_id,
            or_(Group.id == group_ref, Group.scaikey_id == group_ref, Group.name == group_ref),
        )
    )
    if group is None:
        raise NotFoundError(f"Group not found: {group_ref}")
    return group


async def set_parent(session: AsyncSession, group: Group, parent: Group | None) -> None:
    """Nest ``group`` below ``parent`` (or at the top); a parent below the group itself would be a cycle: 400."""
    if parent is not None:
        current: Group | None = parent
        depth = 0
        while current is not None:
            if current.id == group.id:
                raise BadRequestError("A group cannot be nested below itself")
            depth += 1
            if depth >= MAX_GROUP_DEPTH:
                raise BadRequestError(f"Groups nest at most {MAX_GROUP_DEPTH} deep")
            current = await session.get(Group, current.parent_id) if current.parent_id else None
    group.parent_id = parent.id if parent is not None else None
    await session.flush()


async def create_group(
    session: AsyncSession, tenant_id: str, name: str, *, parent: Group | None = None, scaikey_id: str | None = None
) -> Group:
    if await session.scalar(select(Group.id).where(Group.tenant_id == tenant_id, Group.name == name)):
        raise ConflictError(f"Group already exists: {name}")
    group = Group(id=new_id("grp"), tenant_id=tenant_id, name=name, scaikey_id=scaikey_id)
    session.add(group)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"Group already exists: {name}") from exc
    if parent is not None:
        await set_parent(session, group, parent)
    return group


async def add_member(session: AsyncSession, group: Group, user: User) -> None:
    if await session.get(GroupMember, (group.id, user.id)) is None:
        session.add(GroupMember(group_id=group.id, user_id=user.id))
        await session.flush()


async def remove_member(session: AsyncSession, group: Group, user: User) -> None:
    row = await session.get(GroupMember, (group.id, user.id))
    if row is not None:
        await session.delete(row)
        await session.flush()


async def group_members(session: AsyncSession, group: Group) -> list[str]:
    rows = await session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group.id))
    return sorted(rows.all())


async def group_role_ids(session: AsyncSession, group: Group) -> list[str]:
    rows = await session.scalars(select(GroupRole.role_id).where(GroupRole.group_id == group.id))
    return sorted(rows.all())


async def map_role(session: AsyncSession, group: Group, role: Role) -> None:
    if await session.get(GroupRole, (group.id, role.id)) is None:
        session.add(GroupRole(group_id=group.id, role_id=role.id))
        await session.flush()


async def unmap_role(session: AsyncSession, group: Group, role: Role) -> None:
    row = await session.get(GroupRole, (group.id, role.id))
    if row is not None:
        await session.delete(row)
        await session.flush()


MAX_CLAIMED_GROUPS = 200


async def sync_groups(session: AsyncSession, user: User, tenant_id: str, names: Sequence[str]) -> None:
    """Make the user's memberships in the tenant's groups exactly ``names`` (group names or ScaiKey ids, as an
    identity provider's ``groups`` claim lists them); a group not yet known is created, without roles."""
    wanted: set[str] = set()
    for name in list(dict.fromkeys(n.strip() for n in names if n.strip()))[:MAX_CLAIMED_GROUPS]:
        group = await session.scalar(
            select(Group).where(Group.tenant_id == tenant_id, or_(Group.name == name, Group.scaikey_id == name))
        )
        if group is None:
            group = await create_group(session, tenant_id, name[:255])
        wanted.add(group.id)
    current = set(
        (
            await session.scalars(
                select(GroupMember.group_id)
                .join(Group, Group.id == GroupMember.group_id)
                .where(GroupMember.user_id == user.id, Group.tenant_id == tenant_id)
            )
        ).all()
    )
    for group_id in current - wanted:
        row = await session.get(GroupMember, (group_id, user.id))
        if row is not None:
            await session.delete(row)
    for group_id in wanted - current:
        session.add(GroupMember(group_id=group_id, user_id=user.id))
    await session.flush()


async def remove_from_tenant(session: AsyncSession, user: User, tenant_id: str) -> bool:
    """Take the user out of the tenant: its roles and group memberships there, its sign-ins into it, and the tenant
    as its home. The user row goes too when nothing is left (no home tenant, no role, no membership anywhere);
    ``True`` then."""
    await session.execute(delete(UserRole).where(UserRole.user_id == user.id, UserRole.tenant_id == tenant_id))
    await session.execute(
        delete(GroupMember).where(
            GroupMember.user_id == user.id,
            GroupMember.group_id.in_(select(Group.id).where(Group.tenant_id == tenant_id)),
        )
    )
    await session.execute(
        delete(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.tenant_id == tenant_id)
    )
    if user.tenant_id == tenant_id:
        user.tenant_id = None
    await session.flush()
    elsewhere = await session.scalar(select(UserRole.user_id).where(UserRole.user_id == user.id).limit(1))
    member = await session.scalar(select(GroupMember.user_id).where(GroupMember.user_id == user.id).limit(1))
    if user.tenant_id is None and elsewhere is None and member is None:
        await session.delete(user)
        await session.flush()
        return True
    return False
