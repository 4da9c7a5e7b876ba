"""``scaisend tenants create|list|show|rename|suspend|resume`` (D1, docs/architecture.md, D52): bootstrap tenants (each gets
the default ``admin``, ``developer`` and ``viewer`` roles) and run them. A suspended tenant's credentials get 403 and
its queued mail is stopped at compose; ``resume`` lets it send again."""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.cli.common import emit, print_table, run_in_session, settings_or_exit
from scaisend.models import Tenant
from scaisend.tenants import partners
from scaisend.tenants import service as tenant_service
from scaisend.tenants.roles import list_roles


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("tenants", help="manage tenants")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a tenant; prints its id")
    create.add_argument("name")
    create.add_argument("--slug")
    create.add_argument("--partner", help="partner id or ScaiKey id")
    create.add_argument("--scaikey-id", help="the tenant's id in your identity provider (its JWTs' tenant_id)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list tenants")
    listing.add_argument("--partner", help="only this partner's tenants")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    show = actions.add_parser("show", help="show a tenant, its settings and roles")
    show.add_argument("tenant", metavar="TENANT", help="tenant id or ScaiKey id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)
    rename = actions.add_parser("rename", help="rename a tenant")
    rename.add_argument("tenant", metavar="TENANT")
    rename.add_argument("name")
    rename.set_defaults(func=_rename)
    for name, suspended, text in (
        ("suspend", True, "stop a tenant: its keys and users get 403, its queued mail is not sent"),
        ("resume", False, "let a suspended tenant send again"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("tenant", metavar="TENANT")
        action.set_defaults(func=_suspension, suspended=suspended)


def tenant_dict(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "slug": tenant.slug,
        "scaikey_id": tenant.scaikey_id,
        "partner_id": tenant.partner_id,
        "status": "suspended" if tenant.suspended else "active",
        "settings": tenant.settings or {},
    }


def _create(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        partner_id = (await partners.find_partner(session, args.partner)).id if args.partner else None
        tenant = await tenant_service.create_tenant(
            session, args.name, slug=args.slug, partner_id=partner_id, scaikey_id=args.scaikey_id
        )
        return {"id": tenant.id, "name": tenant.name, "slug": tenant.slug, "partner_id": partner_id}

    result = run_in_session(settings, work)
    emit(result, str(result["id"]), args.json)


def _list(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        partner_id = (await partners.find_partner(session, args.partner)).id if args.partner else None
        return [tenant_dict(t) for t in await tenant_service.list_tenants(session, partner_id=partner_id)]

    print_table(run_in_session(settings, work), ["id", "slug", "status", "partner_id", "name"], args.json)


def _show(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        tenant = await tenant_service.find_tenant(session, args.tenant)
        return {**tenant_dict(tenant), "roles": [r.name for r in await list_roles(session, tenant.id)]}

    data = run_in_session(settings, work)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    for key, value in data.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")


def _rename(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        tenant = await tenant_service.find_tenant(session, args.tenant)
        await tenant_service.update_tenant(session, tenant, name=args.name)
        return tenant.id

    print(f"{run_in_session(settings, work)}: renamed to {args.name}")


def _suspension(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        tenant = await tenant_service.find_tenant(session, args.tenant)
        await tenant_service.set_suspended(session, tenant, args.suspended)
        return tenant.id

    print(f"{run_in_session(settings, work)}: {'suspended' if args.suspended else 'active'}")
