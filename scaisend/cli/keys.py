"""``scaisend keys create --tenant ID --name NAME --scope S [--scope S ...] [--test]``: prints the key."""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.api_keys import create_api_key
from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.cli.common import emit, run_in_session, settings_or_exit
from scaisend.tenants.service import get_tenant


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("keys", help="manage API keys")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an API key; prints the secret key (shown once)")
    create.add_argument("--tenant", required=True, help="tenant id")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        dest="scopes",
        help=f"repeatable; 'all' for every scope. Known: {', '.join(sorted(SCOPE_NAMES))}",
    )
    create.add_argument("--test", action="store_true", help="an sg_test_ key: validates, never delivers")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)


def _create(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    scopes = sorted(SCOPE_NAMES) if "all" in args.scopes else args.scopes

    async def work(session: AsyncSession) -> dict[str, object]:
        await get_tenant(session, args.tenant)
        row, secret = await create_api_key(
            session, tenant_id=args.tenant, name=args.name, scopes=scopes, environment="test" if args.test else "live"
        )
        return {
            "id": row.id,
            "name": row.name,
            "api_key": secret,
            "prefix": row.prefix,
            "environment": row.environment,
            "scopes": row.scopes,
        }

    result = run_in_session(settings, work)
    emit(result, str(result["api_key"]), args.json)
