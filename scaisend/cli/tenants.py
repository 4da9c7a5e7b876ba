"""``scaisend tenants create NAME``: bootstrap a tenant (D1) with its default roles."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.cli.common import emit, run_in_session, settings_or_exit
from scaisend.tenants.service import create_tenant


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("tenants", help="manage tenants")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a tenant; prints its id")
    create.add_argument("name")
    create.add_argument("--slug")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)


def _create(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, object]:
        tenant = await create_tenant(session, args.name, slug=args.slug)
        return {"id": tenant.id, "name": tenant.name, "slug": tenant.slug}

    result = run_in_session(settings, work)
    emit(result, str(result["id"]), args.json)
