"""Live ``daily_stats`` counting (D9): one atomic upsert per metric row and event, so concurrent workers never race
(MySQL ``INSERT … ON DUPLICATE KEY UPDATE col = col + n``, SQLite ``ON CONFLICT … DO UPDATE``).

Each event counts in the all-categories row (``category = ""``) and in one row per category of its message.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.clock import utcnow
from scaisend.events.types import DropReason, EventType
from scaisend.models import ALL_CATEGORIES, DailyStat

_TABLE: Table = DailyStat.__table__  # type: ignore[assignment]

DROP_METRICS: dict[str, str] = {
    DropReason.SUPPRESSED_BOUNCE: "bounce_drops",
    DropReason.SUPPRESSED_SPAM: "spam_report_drops",
    DropReason.SUPPRESSED_UNSUBSCRIBE: "unsubscribe_drops",
    DropReason.SUPPRESSED_GROUP: "unsubscribe_drops",
    DropReason.INVALID_EMAIL: "invalid_emails",
}

_EVENT_METRICS: dict[EventType, tuple[str, ...]] = {
    EventType.PROCESSED: ("requests", "processed"),
    EventType.DELIVERED: ("delivered",),
    EventType.DEFERRED: ("deferred",),
    EventType.BOUNCE: ("bounces",),
    EventType.BLOCKED: ("blocks",),
    EventType.OPEN: ("opens",),
    EventType.CLICK: ("clicks",),
    EventType.SPAM_REPORT: ("spam_reports",),
    EventType.UNSUBSCRIBE: ("unsubscribes",),
    EventType.GROUP_UNSUBSCRIBE: ("unsubscribes",),
    EventType.GROUP_RESUBSCRIBE: (),
    EventType.DROPPED: ("requests",),
}


def metrics_for(event_type: EventType, metadata: dict[str, Any]) -> tuple[str, ...]:
    """The stats metrics one event increments. ``open``/``click`` with ``metadata["unique"]`` also count once in
    ``unique_opens``/``unique_clicks``; ``dropped`` counts in the ``*_drops`` metric of its reason."""
    names = _EVENT_METRICS[event_type]
    if event_type is EventType.OPEN and metadata.get("unique"):
        names += ("unique_opens",)
    elif event_type is EventType.CLICK and metadata.get("unique"):
        names += ("unique_clicks",)
    elif event_type is EventType.DROPPED and metadata.get("reason") in DROP_METRICS:
        names += (DROP_METRICS[metadata["reason"]],)
    return names


async def increment(
    session: AsyncSession, *, tenant_id: str, day: date, categories: Iterable[str], amounts: dict[str, int]
) -> None:
    """Add ``amounts`` to the tenant's row for ``day`` in the all-categories row and each category's row."""
    if not amounts:
        return
    now = utcnow()
    rows = [
        {"tenant_id": tenant_id, "date": day, "category": c, "updated_at": now, **amounts}
        for c in dict.fromkeys([ALL_CATEGORIES, *categories])
    ]
    if session.get_bind().dialect.name == "mysql":
        upsert = mysql.insert(_TABLE).values(rows)
        added = {name: _TABLE.c[name] + upsert.inserted[name] for name in amounts}
        await session.execute(upsert.on_duplicate_key_update(added | {"updated_at": upsert.inserted.updated_at}))
    else:
        insert = sqlite.insert(_TABLE).values(rows)
        added = {name: _TABLE.c[name] + insert.excluded[name] for name in amounts}
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["tenant_id", "date", "category"],
                set_=added | {"updated_at": insert.excluded.updated_at},
            )
        )


async def count_event(
    session: AsyncSession,
    *,
    tenant_id: str,
    day: date,
    event_type: EventType,
    categories: Iterable[str],
    metadata: dict[str, Any],
) -> None:
    await increment(
        session,
        tenant_id=tenant_id,
        day=day,
        categories=categories,
        amounts=dict.fromkeys(metrics_for(event_type, metadata), 1),
    )
