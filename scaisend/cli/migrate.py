"""``scaisend migrate [--revision REV] [--downgrade REV]``: apply Alembic migrations."""

from __future__ import annotations

import argparse

from scaisend.cli.common import settings_or_exit
from scaisend.db import migrate


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("migrate", help="apply database migrations (upgrade to head by default)")
    parser.add_argument("--revision", default="head", help="upgrade to this revision")
    parser.add_argument("--downgrade", metavar="REV", help="downgrade to REV instead (e.g. base)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    if args.downgrade:
        migrate.downgrade(settings, args.downgrade)
        print(f"downgraded to {args.downgrade}")
    else:
        migrate.upgrade(settings, args.revision)
        print(f"upgraded to {args.revision}")
