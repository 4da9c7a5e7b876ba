"""``scaisend migrate [--revision REV] [--downgrade REV]``: apply Alembic migrations.

It first connects and reads the revision the database is at, so a database it cannot use costs one line on stderr
and a distinct exit code instead of a traceback (issue 16): 3 the database does not exist, 4 access denied,
5 the server cannot be reached, 1 the migration failed, 2 a bad setting. It then says what changed: ``upgraded from
<rev> to <rev>``, or ``already at <rev> (head), nothing to do``.
"""

from __future__ import annotations

import argparse
import sys

from scaisend.cli.common import settings_or_exit
from scaisend.db import migrate
from scaisend.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "migrate",
        help="apply database migrations (upgrade to head by default)",
        description="Apply database migrations. Exit codes: 0 done (or nothing to do), 1 a migration failed, "
        "2 a bad setting, 3 the database does not exist, 4 access denied, 5 the database server cannot be reached.",
    )
    parser.add_argument("--revision", default="head", help="upgrade to this revision")
    parser.add_argument("--downgrade", metavar="REV", help="downgrade to REV instead (e.g. base)")
    parser.set_defaults(func=_run)


def _fail(settings: Settings, error: BaseException) -> None:
    unusable = migrate.unreachable(settings, error)
    if unusable is None:
        raise error
    print(f"scaisend migrate: {unusable.message}", file=sys.stderr)
    raise SystemExit(unusable.exit_code) from None


def _describe(heads: tuple[str, ...]) -> str:
    return ", ".join(heads) if heads else "an empty database"


def _run(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    try:
        before = migrate.current_heads(settings)
        if args.downgrade:
            migrate.downgrade(settings, args.downgrade)
        else:
            migrate.upgrade(settings, args.revision)
        after = migrate.current_heads(settings)
    except Exception as exc:
        _fail(settings, exc)
        return
    head = migrate.head_revision()
    label = " (head)" if after == (head,) else ""
    if before == after:
        print(f"already at {_describe(after)}{label}, nothing to do")
    elif args.downgrade:
        print(f"downgraded from {_describe(before)} to {_describe(after)}")
    else:
        print(f"upgraded from {_describe(before)} to {_describe(after)}{label}")
