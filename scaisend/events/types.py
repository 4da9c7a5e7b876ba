"""The twelve event types (docs/webhooks.md, `scaisend/events/types.py`); the names are stable and part of the API."""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    PROCESSED = "processed"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCE = "bounce"
    BLOCKED = "blocked"
    DROPPED = "dropped"
    OPEN = "open"
    CLICK = "click"
    SPAM_REPORT = "spam_report"
    UNSUBSCRIBE = "unsubscribe"
    GROUP_UNSUBSCRIBE = "group_unsubscribe"
    GROUP_RESUBSCRIBE = "group_resubscribe"


EVENT_TYPES: tuple[str, ...] = tuple(e.value for e in EventType)


class DropReason(enum.StrEnum):
    """``dropped`` reasons (docs/compose.md, docs/suppressions.md) and the ``*_drops`` stats metric each one counts in."""

    SUPPRESSED_BOUNCE = "suppressed_bounce"
    SUPPRESSED_SPAM = "suppressed_spam"
    SUPPRESSED_UNSUBSCRIBE = "suppressed_unsubscribe"
    SUPPRESSED_GROUP = "suppressed_group"
    INVALID_EMAIL = "invalid_email"
