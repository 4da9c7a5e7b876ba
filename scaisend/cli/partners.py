"""``scaisend partners create|list|add-admin|remove-admin`` (docs/architecture.md, D50): partners group tenants; a partner
admin (a user) sees and manages every tenant of the partner through ``/api/admin``."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.cli.common import emit, print_table, run_in_session, settings_or_exit
from scaisend.tenants import partners
from scaisend.tenants.users import find_user


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("partners", help="manage partners (groups of tenants) and their admins")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a partner; prints its id")
    create.add_argument("name")
    create.add_argument("--slug")
    create.add_argument("--scaikey-id", help="the partner's id in your identity provider (prt_...)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list partners with their number of tenants")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    for name, func, text in (
        ("add-admin", _add_admin, "make a user an admin of the partner (sees and manages all its tenants)"),
        ("remove-admin", _remove_admin, "take a user's partner admin rights away"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("partner", metavar="PARTNER", help="partner id or ScaiKey id")
        action.add_argument("user", metavar="USER", help="user id, ScaiKey id or email")
        action.set_defaults(func=func)


def _create(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        partner = await partners.create_partner(session, args.name, slug=args.slug, scaikey_id=args.scaikey_id)
        return {"id": partner.id, "name": partner.name, "slug": partner.slug, "scaikey_id": partner.scaikey_id}

    result = run_in_session(settings, work)
    emit(result, str(result["id"]), args.json)


def _list(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "id": p.id,
                "slug": p.slug,
                "scaikey_id": p.scaikey_id,
                "tenants": len(await partners.partner_tenant_ids(session, p.id)),
                "name": p.name,
            }
            for p in await partners.list_partners(session)
        ]

    print_table(run_in_session(settings, work), ["id", "slug", "scaikey_id", "tenants", "name"], args.json)


def _add_admin(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> None:
        partner = await partners.find_partner(session, args.partner)
        await partners.add_partner_admin(session, partner, await find_user(session, args.user))

    run_in_session(settings, work)
    print(f"{args.user} administers partner {args.partner}")


def _remove_admin(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> None:
        partner = await partners.find_partner(session, args.partner)
        await partners.remove_partner_admin(session, partner.id, (await find_user(session, args.user)).id)

    run_in_session(settings, work)
    print(f"{args.user} no longer administers partner {args.partner}")
