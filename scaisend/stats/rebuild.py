"""Recomputing ``daily_stats`` from ``email_events`` (D9 ``POST /v3/stats/rebuild``, docs/stats.md, D5).

For each day of the range, in its own transaction: recount every event of the day with
:func:`scaisend.stats.counters.metrics_for`, the mapping live counting uses (``unique_opens`` and ``unique_clicks``
from ``metadata["unique"]``, drops by reason), into the all-categories row and one row per category of the event's
message, and replace the day's rows with the result (rows of categories without events are deleted). Live counting
and a rebuild therefore cannot disagree. Events are read in keyset-paged batches, so memory is bounded by one batch
plus one counter per category of the day, whatever the volume.

Events recorded before D5 was revised (one ``processed`` per message, for its first recipient, recognised by the
event id the old dedupe key ``"processed"`` derives) count per recipient: as many ``processed`` and ``requests`` as
the message has processed recipients (:func:`scaisend.compose.recipients.processed_recipients`: to, cc and bcc minus
its dropped ones), less the per-recipient ``processed`` events the message got later (a retry after the upgrade);
when the message row is gone, once.

Concurrency with live counting: every live upsert takes the day's all-categories row (``category = ""``, which
:func:`~scaisend.stats.counters.increment` lists first) before its category rows, and so does a rebuild, before it
reads any event. That row is the day's lock: a live upsert arriving during the rebuild waits and then adds its event
on top of the rebuilt counts, and every event whose count is already in the rows is committed, hence read. Rows are
updated in place rather than deleted and re-inserted, because InnoDB deadlocks a transaction that re-inserts a key
another transaction is waiting on. Days are UTC dates of ``occurred_at``. Events whose message row is gone count
only in the all-categories row.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.clock import utcnow
from scaisend.compose.recipients import LEGACY_PROCESSED_DEDUPE_KEY, processed_recipients
from scaisend.db.session import unit_of_work
from scaisend.events.recorder import derived_event_id
from scaisend.events.types import EventType
from scaisend.models import ALL_CATEGORIES, STAT_METRICS, DailyStat, EmailEvent, Message
from scaisend.stats.counters import increment, metrics_for
from scaisend.stats.service import DateRange

logger = logging.getLogger(__name__)

BATCH_SIZE: Final = 2000
MAX_REBUILD_DAYS: Final = 366

_EventRow = tuple[str, datetime, str, str, dict[str, Any]]


async def _event_batches(
    session: AsyncSession, tenant_id: str, day: date, batch_size: int
) -> AsyncIterator[list[_EventRow]]:
    """The day's events in (occurred_at, event_id) order, ``batch_size`` at a time."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    columns = (
        EmailEvent.event_id,
        EmailEvent.occurred_at,
        EmailEvent.message_id,
        EmailEvent.event_type,
        EmailEvent.data,
    )
    after: tuple[datetime, str] | None = None
    while True:
        stmt = select(*columns).where(
            EmailEvent.tenant_id == tenant_id, EmailEvent.occurred_at >= start, EmailEvent.occurred_at < end
        )
        if after is not None:
            stmt = stmt.where(
                or_(
                    EmailEvent.occurred_at > after[0],
                    and_(EmailEvent.occurred_at == after[0], EmailEvent.event_id > after[1]),
                )
            )
        result = await session.execute(stmt.order_by(EmailEvent.occurred_at, EmailEvent.event_id).limit(batch_size))
        rows: list[_EventRow] = [(row[0], row[1], row[2], row[3], row[4]) for row in result]
        if not rows:
            return
        yield rows
        after = (rows[-1][1], rows[-1][0])


async def _categories(session: AsyncSession, tenant_id: str, message_ids: Iterable[str]) -> dict[str, list[str]]:
    rows = await session.execute(
        select(Message.id, Message.categories).where(
            Message.tenant_id == tenant_id, Message.id.in_(sorted(set(message_ids)))
        )
    )
    return {message_id: list(categories or []) for message_id, categories in rows}


def is_legacy_processed(event_id: str, message_id: str, event_type: str) -> bool:
    """A ``processed`` event recorded once per message, before D5 was revised."""
    return event_type == EventType.PROCESSED and event_id == derived_event_id(
        message_id, EventType.PROCESSED.value, LEGACY_PROCESSED_DEDUPE_KEY
    )


async def _legacy_processed_weights(session: AsyncSession, tenant_id: str, message_ids: set[str]) -> dict[str, int]:
    """How many recipients each message's legacy ``processed`` event stands for: its processed recipients less the
    per-recipient ``processed`` events it has besides (a retry after the upgrade); 1 when the message row is gone."""
    if not message_ids:
        return {}
    ids = sorted(message_ids)
    found = await session.execute(
        select(Message.id, Message.personalization).where(Message.tenant_id == tenant_id, Message.id.in_(ids))
    )
    people = {message_id: personalization for message_id, personalization in found.all()}
    dropped: defaultdict[str, set[str]] = defaultdict(set)
    processed: dict[str, int] = {}
    rows = await session.execute(
        select(EmailEvent.message_id, EmailEvent.event_type, EmailEvent.recipient_email, func.count())
        .where(
            EmailEvent.tenant_id == tenant_id,
            EmailEvent.message_id.in_(ids),
            EmailEvent.event_type.in_([EventType.DROPPED.value, EventType.PROCESSED.value]),
        )
        .group_by(EmailEvent.message_id, EmailEvent.event_type, EmailEvent.recipient_email)
    )
    for message_id, event_type, email, count in rows.all():
        if event_type == EventType.DROPPED:
            dropped[message_id].add(email.lower())
        else:
            processed[message_id] = processed.get(message_id, 0) + int(count)
    weights = {}
    for message_id in ids:
        if message_id not in people:
            weights[message_id] = 1
            continue
        recipients = processed_recipients(people[message_id] or {}, dropped[message_id])
        weights[message_id] = max(0, len(recipients) - (processed.get(message_id, 1) - 1))
    return weights


async def _count_events(session: AsyncSession, tenant_id: str, day: date, batch_size: int) -> dict[str, Counter[str]]:
    """The day's counts per category (``""`` = all categories), from its events."""
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    async for batch in _event_batches(session, tenant_id, day, batch_size):
        categories = await _categories(session, tenant_id, (row[2] for row in batch))
        legacy = await _legacy_processed_weights(
            session, tenant_id, {row[2] for row in batch if is_legacy_processed(row[0], row[2], row[3])}
        )
        for event_id, _at, message_id, event_type, data in batch:
            try:
                names = tuple(dict.fromkeys(metrics_for(EventType(event_type), data or {})))
            except ValueError:
                logger.warning("unknown event type skipped", extra={"event_type": event_type})
                continue
            weight = legacy[message_id] if is_legacy_processed(event_id, message_id, event_type) else 1
            for category in dict.fromkeys([ALL_CATEGORIES, *categories.get(message_id, [])]):
                counts[category].update(dict.fromkeys(names, weight))
    return {category: counter for category, counter in counts.items() if counter}


def _day_row(tenant_id: str, day: date, category: str) -> list[ColumnElement[bool]]:
    return [DailyStat.tenant_id == tenant_id, DailyStat.date == day, DailyStat.category == category]


async def recount_day(
    session: AsyncSession, tenant_id: str, day: date, *, batch_size: int = BATCH_SIZE
) -> dict[str, Counter[str]]:
    """Replace the tenant's ``daily_stats`` rows of ``day`` with counts of its events; the counts written per
    category. Flushes, never commits."""
    # Take the day's all-categories row first, as every live upsert does: live counting for this day now waits
    # for this transaction, and the events read below include every event whose count is already in the rows.
    await increment(session, tenant_id=tenant_id, day=day, categories=(), amounts={"requests": 0})
    existing = set(
        await session.scalars(select(DailyStat.category).where(DailyStat.tenant_id == tenant_id, DailyStat.date == day))
    )
    counts = await _count_events(session, tenant_id, day, batch_size)
    stale = sorted(existing - counts.keys())
    for start in range(0, len(stale), 500):
        await session.execute(
            delete(DailyStat).where(
                DailyStat.tenant_id == tenant_id,
                DailyStat.date == day,
                DailyStat.category.in_(stale[start : start + 500]),
            )
        )
    now = utcnow()
    for category, counter in counts.items():
        values = {**dict.fromkeys(STAT_METRICS, 0), **counter, "updated_at": now}
        if category in existing:  # in place: deleting and re-inserting a key live counting waits on deadlocks
            await session.execute(update(DailyStat).where(*_day_row(tenant_id, day, category)).values(values))
        else:
            await session.execute(insert(DailyStat).values(tenant_id=tenant_id, date=day, category=category, **values))
    return counts


async def rebuild_range(
    maker: async_sessionmaker[AsyncSession], tenant_id: str, span: DateRange, *, batch_size: int = BATCH_SIZE
) -> int:
    """Rebuild every day of ``span`` for the tenant, one transaction per day (so locks stay short and a failure
    keeps the days already done); the number of days rebuilt."""
    for day in span.days():
        async with unit_of_work(maker) as session:
            await recount_day(session, tenant_id, day, batch_size=batch_size)
    logger.info(
        "stats rebuilt",
        extra={"start_date": span.start.isoformat(), "end_date": span.end.isoformat(), "days": span.length},
    )
    return span.length
