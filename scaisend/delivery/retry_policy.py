"""The outbound retry schedule (D10).

``SMTP_RETRY_SCHEDULE`` (default ``5m,10m,20m,40m,1h,2h``) gives the wait after attempts 1, 2, 3, …; the last value
repeats. Every wait gets ±10% jitter so a burst of deferrals does not come back as a burst. A 4xx reply that names a
wait ("try again in 90 seconds", "retry in 5 minutes") is honoured: that wait (plus up to 10%, never less) replaces
the schedule's. No retry is planned past ``SMTP_MAX_AGE`` (default 72 h, measured from the message's ``created_at``):
a wait that would cross it is shortened so the last attempt happens at the deadline, and a deferral at or after the
deadline expires the message (a soft ``bounce``).

:func:`next_attempt` is a pure function of (policy, attempt, age, named wait, rng): it reads no clock and never
sleeps. The caller measures the age with its injected clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from scaisend import linear_re
from scaisend.settings import Settings

JITTER = 0.10
_MAX_NAMED_WAIT = timedelta(days=1)  # a reply asking for more than this is treated as naming no wait
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hr": 3600, "hour": 3600}
_WAIT_RE = linear_re.compile(  # RE2: the text is an MX reply (internet input)
    r"(?:in|after|wait(?:ing)?|for)\s+(\d{1,6})\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b",
    ignorecase=True,
)


def named_wait(text: str) -> float | None:
    """The wait in seconds a reply asks for ("try again in 5 minutes" → 300.0), or ``None`` if it names none."""
    match = _WAIT_RE.search(text)
    if match is None:
        return None
    unit = match.group(2).lower().rstrip("s") or "s"
    seconds = int(match.group(1)) * _UNITS[unit]
    if seconds <= 0 or seconds > _MAX_NAMED_WAIT.total_seconds():
        return None
    return float(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """The schedule (waits after attempt 1, 2, …; the last repeats), the maximum age and the jitter fraction."""

    schedule: tuple[timedelta, ...]
    max_age: timedelta
    jitter: float = JITTER

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(tuple(settings.retry_schedule), settings.smtp_max_age)

    def base_delay(self, attempt: int) -> timedelta:
        """The schedule's wait after ``attempt`` (1-based), before jitter."""
        return self.schedule[min(max(attempt, 1), len(self.schedule)) - 1]


@dataclass(frozen=True)
class Retry:
    """Try again after ``delay``; ``honoured_wait`` says the MX named the wait."""

    delay: timedelta
    honoured_wait: bool = False


@dataclass(frozen=True)
class Expire:
    """Give up: the message is ``SMTP_MAX_AGE`` old."""


RetryDecision = Retry | Expire


def next_attempt(
    policy: RetryPolicy, *, attempt: int, age: timedelta, wait: float | None, rng: random.Random
) -> RetryDecision:
    """What to do after ``attempt`` (1-based) deferred, for a message ``age`` old; ``wait`` is the seconds the reply
    asked for (:func:`named_wait`), if any."""
    remaining = policy.max_age - age
    if remaining <= timedelta(0):
        return Expire()
    if wait is not None:
        delay = timedelta(seconds=wait * rng.uniform(1.0, 1.0 + policy.jitter))
    else:
        delay = policy.base_delay(attempt) * rng.uniform(1.0 - policy.jitter, 1.0 + policy.jitter)
    return Retry(min(delay, remaining), honoured_wait=wait is not None)
