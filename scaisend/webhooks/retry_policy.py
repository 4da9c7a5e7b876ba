"""Webhook retry schedule and endpoint health (docs/webhooks.md, D6).

A delivery gets 6 attempts: the first at once, then +60 s, +300 s, +900 s, +3600 s and +7200 s after the previous
attempt (about 3.5 h in all); after the 6th failure it is ``failed`` for good. ``failure_count`` of an endpoint counts
consecutive failed attempts across all its deliveries and is reset by any success; at 10 the endpoint is disabled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

RETRY_DELAYS: Final[tuple[int, ...]] = (60, 300, 900, 3600, 7200)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1
AUTO_DISABLE_AFTER: Final = 10
LEASE_MARGIN: Final = timedelta(seconds=60)


def retry_delay(attempts_made: int) -> timedelta | None:
    """The wait before the next attempt after ``attempts_made`` failed ones, or ``None`` when none is left."""
    if attempts_made < 1:
        raise ValueError("attempts_made starts at 1")
    if attempts_made >= MAX_ATTEMPTS:
        return None
    return timedelta(seconds=RETRY_DELAYS[attempts_made - 1])


def next_attempt_at(attempts_made: int, now: datetime) -> datetime | None:
    """When the next attempt is due after ``attempts_made`` failed attempts ending at ``now``."""
    delay = retry_delay(attempts_made)
    return None if delay is None else now + delay


def lease_until(now: datetime, timeout_seconds: float) -> datetime:
    """While an attempt is in flight its ``next_attempt_at`` is pushed this far, so the sweep leaves it alone; if
    the worker dies mid-POST the sweep picks the delivery up again after the lease."""
    return now + timedelta(seconds=timeout_seconds) * 2 + LEASE_MARGIN


def should_disable(consecutive_failures: int) -> bool:
    return consecutive_failures >= AUTO_DISABLE_AFTER
