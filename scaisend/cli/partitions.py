"""``scaisend partitions [--ahead N] [--retention-months M] [--dry-run]``: the monthly ``email_events`` partitions on
MySQL (:mod:`scaisend.db.partitions`; the worker does the same daily). Prints the partitions afterwards, one line
each (name, and the day its rows are older than), and what changed."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.cli.common import run_in_session, settings_or_exit
from scaisend.db import partitions


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("partitions", help="add the coming months' email_events partitions; drop expired ones")
    parser.add_argument(
        "--ahead",
        type=int,
        default=partitions.MONTHS_AHEAD,
        help="months after the current one that must have a partition (default %(default)s)",
    )
    parser.add_argument(
        "--retention-months",
        type=int,
        default=None,
        help="drop months older than this many whole months (default: EVENT_RETENTION_MONTHS)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    retention = settings.EVENT_RETENTION_MONTHS if args.retention_months is None else args.retention_months

    async def work(session: AsyncSession) -> tuple[partitions.Plan | None, list[partitions.Partition]]:
        changes = await partitions.maintain(
            session, datetime.now(UTC).date(), ahead=args.ahead, retention_months=retention, dry_run=args.dry_run
        )
        return changes, (await partitions.read_partitions(session) or [])

    try:
        changes, current = run_in_session(settings, work)
    except partitions.PartitionError as exc:
        print(f"scaisend: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if changes is None:
        print("email_events is not partitioned on this database (SQLite): nothing to do")
        return
    for part in current:
        print(f"{part.name:<10} {'MAXVALUE' if part.upper is None else part.upper.isoformat()}")
    verb = "would add" if args.dry_run else "added"
    print(
        f"{verb}: {', '.join(map(partitions.partition_name, changes.add)) or 'none'}; "
        f"{'would drop' if args.dry_run else 'dropped'}: {', '.join(changes.drop) or 'none'}"
    )
