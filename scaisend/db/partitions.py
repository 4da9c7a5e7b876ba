"""Monthly partitions of ``email_events`` on MySQL/MariaDB (D18, docs/deploy.md): keep the coming months split out of
the catch-all ``pmax``, and drop whole months the operator no longer keeps.

The first migration made ``p<YYYYMM>`` partitions for its month and the next three, each ``VALUES LESS THAN
(TO_DAYS(<first day of the next month>))``, and ``pmax``. :func:`maintain` (the worker's daily cron and
``scaisend partitions``) splits further months out of ``pmax`` so that the current month and the next
:data:`MONTHS_AHEAD` always have their own partition; splitting an empty ``pmax`` is instant (the cron leaves a
``pmax`` that holds rows to the operator: see :func:`maintain`). With a retention it
drops the partitions whose every row is older than the first day of the month ``EVENT_RETENTION_MONTHS`` months ago
(``DROP PARTITION`` is instant, unlike a ``DELETE``); the lowest partition also holds anything older than its
month, so dropping it drops that too. ``pmax`` and the current month are never dropped. SQLite keeps one table and
has nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext

logger = logging.getLogger(__name__)

TABLE = "email_events"
PMAX = "pmax"
MONTHS_AHEAD = 3
_TO_DAYS_OFFSET = 365  # MySQL TO_DAYS('0001-01-01') = 366; Python date(1, 1, 1).toordinal() = 1


class PartitionError(ValueError):
    """A maintenance request that cannot be carried out (negative months)."""


@dataclass(frozen=True)
class Partition:
    name: str
    upper: date | None  # rows are older than this day; None for ``pmax``


@dataclass(frozen=True)
class Plan:
    add: list[date] = field(default_factory=list)  # first days of the months to split out of pmax, in order
    drop: list[str] = field(default_factory=list)  # partition names

    @property
    def empty(self) -> bool:
        return not self.add and not self.drop


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"p{month:%Y%m}"


def to_days(day: date) -> int:
    return day.toordinal() + _TO_DAYS_OFFSET


def from_days(days: int) -> date:
    return date.fromordinal(days - _TO_DAYS_OFFSET)


def plan(existing: Sequence[Partition], today: date, *, ahead: int = MONTHS_AHEAD, retention_months: int = 0) -> Plan:
    """What to change so that this month and the next ``ahead`` have partitions, and (with ``retention_months``
    > 0) nothing older than that many whole months before this one is kept. ``existing`` in the table's order."""
    if ahead < 0 or retention_months < 0:
        raise PartitionError("months ahead and retention months cannot be negative")
    bounded = [p for p in existing if p.upper is not None]
    if not bounded or all(p.name != PMAX for p in existing):
        return Plan()  # not partitioned the way the migration made it: leave it to the operator
    this_month = month_start(today)
    need_until = add_months(this_month, ahead + 1)
    month = max(p.upper for p in bounded if p.upper is not None)
    add = []
    while month < need_until:
        add.append(month)
        month = add_months(month, 1)
    drop: list[str] = []
    if retention_months:
        keep_from = add_months(this_month, -retention_months)
        drop = [p.name for p in bounded if p.upper is not None and p.upper <= keep_from]
    return Plan(add, drop)


async def read_partitions(session: AsyncSession) -> list[Partition] | None:
    """The table's partitions in order; ``None`` on SQLite (no partitions there)."""
    if session.get_bind().dialect.name != "mysql":
        return None
    rows = await session.execute(
        text(
            "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :table AND PARTITION_NAME IS NOT NULL "
            "ORDER BY PARTITION_ORDINAL_POSITION"
        ),
        {"table": TABLE},
    )
    return [
        Partition(str(name), None if str(bound).upper() == "MAXVALUE" else from_days(int(bound)))
        for name, bound in rows
    ]


def statements(changes: Plan) -> list[str]:
    """The DDL of ``changes`` (built from dates and names the plan made, never from user text)."""
    ddl = []
    if changes.add:
        parts = [f"PARTITION {partition_name(m)} VALUES LESS THAN ({to_days(add_months(m, 1))})" for m in changes.add]
        parts.append(f"PARTITION {PMAX} VALUES LESS THAN MAXVALUE")
        ddl.append(f"ALTER TABLE {TABLE} REORGANIZE PARTITION {PMAX} INTO ({', '.join(parts)})")
    if changes.drop:
        ddl.append(f"ALTER TABLE {TABLE} DROP PARTITION {', '.join(changes.drop)}")
    return ddl


async def pmax_has_rows(session: AsyncSession) -> bool:
    return (await session.execute(text(f"SELECT 1 FROM {TABLE} PARTITION ({PMAX}) LIMIT 1"))).first() is not None


async def maintain(
    session: AsyncSession,
    today: date,
    *,
    ahead: int = MONTHS_AHEAD,
    retention_months: int = 0,
    dry_run: bool = False,
    move_rows: bool = True,
) -> Plan | None:
    """Read the partitions, plan and (unless ``dry_run``) apply; the plan, or ``None`` when the database has no
    partitions (SQLite). MySQL commits DDL at once: there is nothing to roll back.

    Splitting an empty ``pmax`` is instant, but one that holds events (a table left without maintenance for months)
    is copied row by row while writes to ``email_events`` wait. With ``move_rows=False`` (the worker's cron) such a
    split is not made: it is logged for the operator to run ``scaisend partitions`` in a quiet hour."""
    existing = await read_partitions(session)
    if existing is None:
        return None
    changes = plan(existing, today, ahead=ahead, retention_months=retention_months)
    if changes.add and not move_rows and await pmax_has_rows(session):
        logger.warning(
            "email_events pmax holds events: months not split out automatically; run "
            "`scaisend partitions` in a quiet hour (writes to email_events wait while rows move)",
            extra={"months": [partition_name(m) for m in changes.add]},
        )
        changes = Plan(drop=changes.drop)
    if not dry_run:
        for ddl in statements(changes):
            await session.execute(text(ddl))
    if not changes.empty:
        logger.warning(
            "email_events partitions changed" if not dry_run else "email_events partitions to change",
            extra={"added": [partition_name(m) for m in changes.add], "dropped": changes.drop},
        )
    return changes


async def maintain_event_partitions(ctx: JobContext) -> int:
    """The worker's daily cron: :func:`maintain` with the ``EVENT_RETENTION_MONTHS`` setting, never moving rows out
    of ``pmax``; how many partitions were added or dropped. A failure is logged and retried by the next day's run
    (events keep landing in ``pmax`` meanwhile, nothing is lost)."""
    try:
        async with unit_of_work(ctx["maker"]) as session:
            changes = await maintain(
                session,
                ctx["clock"].now().date(),
                retention_months=ctx["settings"].EVENT_RETENTION_MONTHS,
                move_rows=False,
            )
    except Exception:
        logger.exception("email_events partition maintenance failed")
        return 0
    return 0 if changes is None else len(changes.add) + len(changes.drop)
