"""The shared stats scenario: a mix of every event type over two days (2026-04-30, a Thursday, and 2026-05-03, a
Sunday: one ISO week, two months) for three messages with categories, and the counts a user must see, written out
by hand from the metric definitions (docs/stats.md, D5, D9) rather than computed by the code under test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI

from scaisend.events.types import DropReason, EventType
from scaisend.models import STAT_METRICS, Message
from tests.factories.stats import make_message, record

DAY1 = date(2026, 4, 30)
DAY2 = date(2026, 5, 3)


def metrics(**counts: int) -> dict[str, int]:
    assert set(counts) <= set(STAT_METRICS)
    return {name: counts.get(name, 0) for name in STAT_METRICS}


ZERO = metrics()
DAY1_ALL = metrics(
    requests=4,
    processed=2,
    delivered=1,
    opens=2,
    unique_opens=1,
    clicks=1,
    unique_clicks=1,
    deferred=1,
    bounces=1,
    bounce_drops=1,
    invalid_emails=1,
)
DAY2_ALL = metrics(
    requests=3,
    processed=1,
    delivered=1,
    clicks=1,
    spam_reports=1,
    unsubscribes=2,
    blocks=1,
    spam_report_drops=1,
    unsubscribe_drops=1,
)
BOTH_DAYS_ALL = {name: DAY1_ALL[name] + DAY2_ALL[name] for name in STAT_METRICS}
DAY1_WELCOME = metrics(requests=1, processed=1, delivered=1, opens=2, unique_opens=1, clicks=1, unique_clicks=1)
DAY2_WELCOME = metrics(clicks=1, spam_reports=1, unsubscribes=1)
DAY1_NEWSLETTER = metrics(requests=1, processed=1, deferred=1, bounces=1)
DAY2_NEWSLETTER = metrics(blocks=1, unsubscribes=1)


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


async def record_scenario(app: FastAPI, tenant_id: str) -> None:
    """Record the scenario's events for ``tenant_id``: welcome (categories welcome + onboarding), newsletter
    (category newsletter) and a message without categories."""
    maker = app.state.resources.maker
    welcome = await make_message(maker, tenant_id, ["welcome", "onboarding"])
    newsletter = await make_message(maker, tenant_id, ["newsletter"])
    plain = await make_message(maker, tenant_id)
    events: list[tuple[Message, EventType, datetime, dict[str, Any]]] = [
        (welcome, EventType.PROCESSED, _at(DAY1, 0, 0, 0), {}),
        (welcome, EventType.DELIVERED, _at(DAY1, 0, 1), {"smtp_response": "250 2.0.0 OK"}),
        (welcome, EventType.OPEN, _at(DAY1, 9), {"unique": True}),
        (welcome, EventType.OPEN, _at(DAY1, 10), {}),
        (welcome, EventType.CLICK, _at(DAY1, 11), {"unique": True, "url": "https://example.test/"}),
        (newsletter, EventType.PROCESSED, _at(DAY1, 12), {}),
        (newsletter, EventType.DEFERRED, _at(DAY1, 12, 5), {"attempt": 1}),
        (newsletter, EventType.BOUNCE, _at(DAY1, 13), {"bounce_type": "hard", "status": "5.1.1"}),
        (plain, EventType.DROPPED, _at(DAY1, 14), {"reason": DropReason.SUPPRESSED_BOUNCE.value}),
        (plain, EventType.DROPPED, _at(DAY1, 23, 59, 59), {"reason": DropReason.INVALID_EMAIL.value}),
        (welcome, EventType.CLICK, _at(DAY2, 0, 0, 0), {"unique": False}),
        (welcome, EventType.SPAM_REPORT, _at(DAY2, 1), {}),
        (welcome, EventType.UNSUBSCRIBE, _at(DAY2, 2), {}),
        (newsletter, EventType.BLOCKED, _at(DAY2, 3), {"bounce_type": "block", "status": "5.7.1"}),
        (newsletter, EventType.GROUP_UNSUBSCRIBE, _at(DAY2, 4), {"group_id": "1"}),
        (newsletter, EventType.GROUP_RESUBSCRIBE, _at(DAY2, 5), {"group_id": "1"}),
        (plain, EventType.PROCESSED, _at(DAY2, 6), {}),
        (plain, EventType.DELIVERED, _at(DAY2, 7), {}),
        (plain, EventType.DROPPED, _at(DAY2, 8), {"reason": DropReason.SUPPRESSED_SPAM.value}),
        (plain, EventType.DROPPED, _at(DAY2, 23, 59, 59), {"reason": DropReason.SUPPRESSED_UNSUBSCRIBE.value}),
    ]
    for message, event_type, at, metadata in events:
        await record(maker, message, event_type, at, **metadata)


async def record_noise(app: FastAPI, tenant_id: str) -> None:
    """Another tenant's activity on the same days, which must never show up in the scenario tenant's stats."""
    maker = app.state.resources.maker
    message = await make_message(maker, tenant_id, ["welcome"])
    for event_type in (EventType.PROCESSED, EventType.DELIVERED, EventType.BOUNCE):
        await record(maker, message, event_type, _at(DAY1, 15))
        await record(maker, message, event_type, _at(DAY2, 15))
