"""Monthly ``email_events`` partitions (D18): the plan (months added ahead, months dropped by retention) and the
maintenance on a real MariaDB database made by the migrations: events that waited in ``pmax`` land in their
month's partition, expired months are gone with their rows, a second run changes nothing; the CLI and the worker's
cron do the same; SQLite has nothing to do."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from scaisend.clock import ManualClock
from scaisend.db.partitions import (
    PMAX,
    Partition,
    PartitionError,
    Plan,
    add_months,
    from_days,
    maintain,
    maintain_event_partitions,
    month_start,
    partition_name,
    plan,
    read_partitions,
    to_days,
)
from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import EmailEvent
from tests.harness.database import OwnDatabase
from tests.harness.processes import run_cli
from tests.harness.settings import make_settings


def monthly(first: date, count: int) -> list[Partition]:
    """What the migration makes: ``count`` months from ``first``, then pmax."""
    return [Partition(partition_name(add_months(first, i)), add_months(first, i + 1)) for i in range(count)] + [
        Partition(PMAX, None)
    ]


class TestPlan:
    def test_nothing_to_do_when_the_coming_months_exist(self) -> None:
        assert plan(monthly(date(2026, 11, 1), 4), date(2026, 11, 28)) == Plan()

    def test_adds_the_missing_months_across_a_year_end(self) -> None:
        changes = plan(monthly(date(2026, 11, 1), 4), date(2027, 1, 31))
        assert [partition_name(m) for m in changes.add] == ["p202703", "p202704"]
        assert changes.drop == []

    def test_a_lapsed_table_gets_every_month_up_to_the_horizon(self) -> None:
        changes = plan(monthly(date(2026, 11, 1), 4), date(2027, 6, 2), ahead=1)
        assert [partition_name(m) for m in changes.add] == ["p202703", "p202704", "p202705", "p202706", "p202707"]

    def test_retention_drops_whole_months_before_the_cut_and_never_the_current_one(self) -> None:
        existing = monthly(date(2026, 11, 1), 8)  # 2026-11 .. 2027-06
        assert plan(existing, date(2027, 3, 15), retention_months=2).drop == ["p202611", "p202612"]
        assert plan(existing, date(2027, 3, 15), retention_months=1).drop == ["p202611", "p202612", "p202701"]
        assert plan(existing, date(2027, 3, 15)).drop == []  # 0 keeps everything

    def test_negative_months_are_refused(self) -> None:
        with pytest.raises(PartitionError):
            plan(monthly(date(2026, 11, 1), 4), date(2026, 11, 28), retention_months=-1)

    def test_a_table_not_partitioned_like_the_migration_is_left_alone(self) -> None:
        assert plan([Partition("p0", date(2030, 1, 1))], date(2031, 1, 1)) == Plan()
        assert plan([], date(2031, 1, 1)) == Plan()

    def test_day_numbers_round_trip(self) -> None:
        for day in (date(2026, 11, 1), date(2027, 1, 1), date(2028, 2, 29)):
            assert from_days(to_days(day)) == day


async def add_event(db: OwnDatabase, occurred_at: datetime) -> str:
    event_id = new_id("evt")
    async with unit_of_work(db.maker) as session:
        session.add(
            EmailEvent(
                event_id=event_id,
                occurred_at=occurred_at,
                tenant_id="tnt_x",
                message_id="msg_x",
                event_type="delivered",
                recipient_email="a@example.org",
                data={},
            )
        )
    return event_id


async def rows_in(db: OwnDatabase, partition: str) -> set[str]:
    async with unit_of_work(db.maker) as session:
        result = await session.execute(text(f"SELECT event_id FROM email_events PARTITION ({partition})"))
        return {str(r[0]) for r in result}


class TestOnMariaDB:
    async def test_day_numbers_match_mysql(self, own_database: OwnDatabase) -> None:
        async with unit_of_work(own_database.maker) as session:
            for day in (date(2026, 12, 1), date(2027, 3, 1), date(2030, 1, 1)):
                assert await session.scalar(text(f"SELECT TO_DAYS('{day.isoformat()}')")) == to_days(day)

    async def test_months_ahead_then_retention(self, own_database: OwnDatabase) -> None:
        today = datetime.now(UTC).date()
        this_month = month_start(today)
        async with unit_of_work(own_database.maker) as session:
            assert await maintain(session, today) == Plan()  # the migration made this month and the next three
            names = [p.name for p in await read_partitions(session) or []]
        assert names == [partition_name(add_months(this_month, i)) for i in range(4)] + [PMAX]

        old = await add_event(own_database, datetime.combine(this_month, datetime.min.time(), UTC) + timedelta(hours=1))
        future_month = add_months(this_month, 6)
        future = await add_event(
            own_database, datetime.combine(future_month, datetime.min.time(), UTC) + timedelta(days=3)
        )
        assert await rows_in(own_database, PMAX) == {future}

        later = future_month  # six months on: the coming months are missing, the event waits in pmax
        async with unit_of_work(own_database.maker) as session:
            changes = await maintain(session, later)
        assert changes is not None
        assert [partition_name(m) for m in changes.add] == [
            partition_name(add_months(this_month, i)) for i in range(4, 10)
        ]
        assert await rows_in(own_database, partition_name(future_month)) == {future}
        assert await rows_in(own_database, PMAX) == set()
        async with unit_of_work(own_database.maker) as session:
            assert await maintain(session, later) == Plan()  # idempotent

            changes = await maintain(session, later, retention_months=5)
        assert changes is not None
        assert changes.drop == [partition_name(this_month)]
        async with unit_of_work(own_database.maker) as session:
            left = set(await session.scalars(select(EmailEvent.event_id)))
            assert old not in left
            assert future in left
            assert await session.scalar(select(func.count()).select_from(EmailEvent)) == 1

    async def test_dry_run_changes_nothing(self, own_database: OwnDatabase) -> None:
        later = add_months(month_start(datetime.now(UTC).date()), 5)
        async with unit_of_work(own_database.maker) as session:
            before = await read_partitions(session)
            changes = await maintain(session, later, dry_run=True)
            assert changes is not None
            assert len(changes.add) == 5
            assert await read_partitions(session) == before

    async def test_the_worker_cron_uses_its_clock_and_the_retention_setting(self, own_database: OwnDatabase) -> None:
        later = add_months(month_start(datetime.now(UTC).date()), 5)
        ctx = {
            "maker": own_database.maker,
            "clock": ManualClock(datetime.combine(later, datetime.min.time(), UTC)),
            "settings": own_database.settings.model_copy(update={"EVENT_RETENTION_MONTHS": 3}),
        }
        assert await maintain_event_partitions(ctx) == 5 + 2  # five months added, the two oldest dropped
        assert await maintain_event_partitions(ctx) == 0

    async def test_the_cron_leaves_a_pmax_with_rows_to_the_operator(self, own_database: OwnDatabase) -> None:
        this_month = month_start(datetime.now(UTC).date())
        later = add_months(this_month, 5)
        waiting = await add_event(own_database, datetime.combine(later, datetime.min.time(), UTC))
        ctx = {
            "maker": own_database.maker,
            "clock": ManualClock(datetime.combine(later, datetime.min.time(), UTC)),
            "settings": own_database.settings.model_copy(update={"EVENT_RETENTION_MONTHS": 3}),
        }
        assert await maintain_event_partitions(ctx) == 2  # the two oldest months dropped, no month split out
        assert await rows_in(own_database, PMAX) == {waiting}
        async with unit_of_work(own_database.maker) as session:
            changes = await maintain(session, later)  # what `scaisend partitions` does: the rows move
        assert changes is not None
        assert len(changes.add) == 5
        assert await rows_in(own_database, partition_name(later)) == {waiting}

    def test_cli_prints_the_partitions(self, own_database: OwnDatabase) -> None:
        done = run_cli(own_database.settings, "partitions", "--dry-run", "--ahead", "5")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        this_month = month_start(datetime.now(UTC).date())
        assert lines[0].split() == [partition_name(this_month), add_months(this_month, 1).isoformat()]
        assert lines[-1] == (
            f"would add: {partition_name(add_months(this_month, 4))}, "
            f"{partition_name(add_months(this_month, 5))}; would drop: none"
        )


def test_cli_on_sqlite_has_nothing_to_do(tmp_path: object) -> None:
    settings = make_settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    assert run_cli(settings, "migrate").returncode == 0
    done = run_cli(settings, "partitions")
    assert done.returncode == 0, done.stderr
    assert "not partitioned" in done.stdout
