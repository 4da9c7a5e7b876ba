"""``scaisend users create|list|show|grant|revoke|remove`` and ``scaisend roles list|create`` (docs/sending.md, D4, D51): users of a tenant
and their roles from the command line. ``show`` prints every role held (directly or through a group) and the
effective permissions."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.cli.common import emit, print_table, run_in_session, settings_or_exit
from scaisend.tenants import access, roles, users
from scaisend.tenants.service import find_tenant


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("users", help="manage users and their roles")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a user in a tenant; prints its id")
    create.add_argument("--tenant", required=True, help="tenant id or ScaiKey id")
    create.add_argument("--email", required=True)
    create.add_argument("--first-name")
    create.add_argument("--last-name")
    create.add_argument("--display-name")
    create.add_argument("--scaikey-id", help="the user's subject (sub) at your identity provider")
    create.add_argument("--role", action="append", default=[], dest="roles", help="repeatable: admin, developer, …")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list a tenant's users")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    show = actions.add_parser("show", help="a user's roles (and through what), groups and effective permissions")
    show.add_argument("user", metavar="USER", help="user id, ScaiKey id or email")
    show.add_argument("--tenant", required=True)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
    remove = actions.add_parser(
        "remove", help="take a user out of a tenant (roles, memberships, sign-ins); deleted when nowhere else"
    )
    remove.add_argument("user", metavar="USER")
    remove.add_argument("--tenant", required=True)
    remove.set_defaults(func=_remove)
    for name, func, text in (("grant", _grant, "give a user a role"), ("revoke", _revoke, "take a role away")):
        action = actions.add_parser(name, help=text)
        action.add_argument("user", metavar="USER")
        action.add_argument("role", metavar="ROLE", help="role id or name")
        action.add_argument("--tenant", required=True)
        action.set_defaults(func=func)

    roles_parser = sub.add_parser("roles", help="list a tenant's roles and their permissions")
    role_actions = roles_parser.add_subparsers(dest="action", required=True)
    role_list = role_actions.add_parser("list", help="list a tenant's roles")
    role_list.add_argument("--tenant", required=True)
    role_list.add_argument("--json", action="store_true")
    role_list.set_defaults(func=_roles)
    role_create = role_actions.add_parser("create", help="create a custom role; prints its id")
    role_create.add_argument("name")
    role_create.add_argument("--tenant", required=True)
    role_create.add_argument("--description", default="")
    role_create.add_argument(
        "--permission", action="append", default=[], dest="permissions", help="repeatable: mail.send, stats.read, …"
    )
    role_create.add_argument("--json", action="store_true")
    role_create.set_defaults(func=_create_role)


async def _describe(session: AsyncSession, user_ref: str, tenant_id: str) -> dict[str, Any]:
    user = await users.get_user(session, tenant_id, user_ref)
    held = await access.held_roles(session, user.id, tenant_id)
    return {
        "id": user.id,
        "email": user.email,
        "scaikey_id": user.scaikey_id,
        "display_name": user.display_name,
        "roles": [f"{h.name} ({h.via})" for h in held],
        "groups": await access.user_group_ids(session, user.id, tenant_id),
        "permissions": sorted(await access.role_permission_names(session, (h.role_id for h in held))),
    }


def _create(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant = await find_tenant(session, args.tenant)
        user = await users.create_user(
            session,
            tenant.id,
            args.email,
            first_name=args.first_name,
            last_name=args.last_name,
            display_name=args.display_name,
            scaikey_id=args.scaikey_id,
        )
        for role_ref in args.roles:
            await users.grant_role(session, user, await roles.get_role(session, tenant.id, role_ref))
        return await _describe(session, user.id, tenant.id)

    result = run_in_session(settings, work)
    emit(result, str(result["id"]), args.json)


def _list(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        tenant = await find_tenant(session, args.tenant)
        return [await _describe(session, u.id, tenant.id) for u in await users.list_users(session, tenant.id)]

    rows = run_in_session(settings, work)
    if not args.json:
        rows = [{**r, "roles": ", ".join(r["roles"])} for r in rows]
    print_table(rows, ["id", "email", "scaikey_id", "roles"], args.json)


def _show(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        return await _describe(session, args.user, (await find_tenant(session, args.tenant)).id)

    data = run_in_session(settings, work)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    for key, value in data.items():
        print(f"{key}: {', '.join(value) if isinstance(value, list) else value}")


def _change(args: argparse.Namespace, grant: bool) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> None:
        tenant = await find_tenant(session, args.tenant)
        user = await users.find_user(
            session, args.user
        )  # a user may hold roles in several tenants (docs/architecture.md)
        role = await roles.get_role(session, tenant.id, args.role)
        await (users.grant_role if grant else users.revoke_role)(session, user, role)

    run_in_session(settings, work)
    print(f"{args.user}: {'granted' if grant else 'revoked'} {args.role} in {args.tenant}")


def _remove(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> bool:
        tenant = await find_tenant(session, args.tenant)
        return await users.remove_from_tenant(session, await users.get_user(session, tenant.id, args.user), tenant.id)

    deleted = run_in_session(settings, work)
    print(f"{args.user}: {'deleted' if deleted else 'removed from'} {args.tenant}")


def _grant(args: argparse.Namespace) -> None:
    _change(args, True)


def _revoke(args: argparse.Namespace) -> None:
    _change(args, False)


def _roles(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        tenant = await find_tenant(session, args.tenant)
        rows = await roles.list_roles(session, tenant.id)
        perms = await access.permissions_by_role(session, [r.id for r in rows])
        return [{"id": r.id, "name": r.name, "permissions": perms[r.id]} for r in rows]

    rows = run_in_session(settings, work)
    if not args.json:
        rows = [{**r, "permissions": ", ".join(r["permissions"])} for r in rows]
    print_table(rows, ["id", "name", "permissions"], args.json)


def _create_role(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant = await find_tenant(session, args.tenant)
        role = await roles.create_role(session, tenant.id, args.name, args.description, args.permissions)
        perms = await access.permissions_by_role(session, [role.id])
        return {"id": role.id, "name": role.name, "permissions": perms[role.id]}

    result = run_in_session(settings, work)
    emit(result, str(result["id"]), args.json)
