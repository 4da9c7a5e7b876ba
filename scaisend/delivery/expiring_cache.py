"""Bounded caches whose entries expire by the injected clock (D67): the MX routes and addresses
(:mod:`~scaisend.delivery.mx`) and the TLS policy's memory of broken STARTTLS (:mod:`~scaisend.delivery.tls_policy`).

A ``cachetools.TTLCache`` holds at most ``maxsize`` entries (the least recently used goes first) and forgets each
one ``ttl`` after it was stored, by the :class:`~scaisend.clock.Clock` the delivery runtime was built with, so tests
move a ``ManualClock`` instead of sleeping. One SMTP process sends to any number of domains over weeks: without a
bound these dictionaries only grew.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final, TypeVar

from cachetools import TTLCache

from scaisend.clock import Clock

K = TypeVar("K")
V = TypeVar("V")

MAX_ENTRIES: Final = 10_000
"""Entries per cache: 10 000 domains or hosts (a few MB at most) covers a busy sender's active destinations; a
domain that falls out is looked up again, which costs one DNS query."""


def expiring_cache(clock: Clock, ttl: timedelta, maxsize: int = MAX_ENTRIES) -> TTLCache[K, V]:
    return TTLCache(maxsize=maxsize, ttl=ttl.total_seconds(), timer=lambda: clock.now().timestamp())
