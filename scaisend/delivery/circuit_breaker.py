"""Circuit breaking per MX host (issue 14 item 7; docs/delivery.md, "A misbehaving MX"): a host that keeps failing is
left alone for a while, so it stops holding delivery slots that other destinations need.

A connection failure (refused, timed out, greeting or EHLO refused) or a transaction in which every recipient was
deferred (a 421 to everything, a server that hangs after DATA) counts as a failure; anything else (a delivery, a
bounce) closes the breaker. After :data:`THRESHOLD` failures in a row the breaker opens: for :data:`OPEN_FOR` the
host is not tried and its recipients are deferred at once with ``451 4.4.1`` (retried per D10). Then one delivery
is let through as a probe; its outcome closes the breaker or opens it again. While a host has failures and all its
pooled connections are busy, further deliveries to it are deferred instead of queueing for a connection
(:meth:`CircuitBreakers.shed`), so one slow or hanging destination cannot take every delivery slot of the process.

State is per process (each SMTP replica learns on its own) and in memory (a restart forgets it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from scaisend.clock import Clock
from scaisend.delivery.result import DeliveryResult, Outcome

logger = logging.getLogger(__name__)

THRESHOLD = 5
OPEN_FOR = timedelta(seconds=60)


@dataclass
class _State:
    failures: int = 0
    open_until: datetime | None = None
    probing: bool = False


class CircuitBreakers:
    def __init__(self, clock: Clock, *, threshold: int = THRESHOLD, open_for: timedelta = OPEN_FOR) -> None:
        self.clock = clock
        self.threshold = threshold
        self.open_for = open_for
        self._states: dict[str, _State] = {}

    def allow(self, host: str) -> bool:
        """Whether a delivery may connect to ``host`` now (closed, or the one probe of a breaker whose time is up)."""
        state = self._states.get(host.lower())
        if state is None or state.open_until is None:
            return True
        if self.clock.now() < state.open_until or state.probing:
            return False
        state.probing = True
        return True

    def shed(self, host: str, pool_full: bool) -> bool:
        """Whether to defer instead of waiting for a connection: ``host`` has been failing and every connection to
        it is busy."""
        state = self._states.get(host.lower())
        return pool_full and state is not None and state.failures > 0

    def record(self, host: str, results: list[DeliveryResult]) -> None:
        """Count a transaction: a failure when every recipient was deferred, else a success."""
        if results and all(r.outcome is Outcome.DEFERRED for r in results):
            self.failed(host)
        else:
            self.succeeded(host)

    def succeeded(self, host: str) -> None:
        state = self._states.pop(host.lower(), None)
        if state is not None and state.open_until is not None:
            logger.warning("MX host answers again; circuit closed", extra={"mx_host": host})

    def failed(self, host: str) -> None:
        state = self._states.setdefault(host.lower(), _State())
        state.failures += 1
        state.probing = False
        if state.failures >= self.threshold:
            reopened = state.open_until is not None
            state.open_until = self.clock.now() + self.open_for
            if not reopened:
                logger.warning(
                    "MX host keeps failing; circuit open",
                    extra={"mx_host": host, "failures": state.failures, "open_seconds": self.open_for.total_seconds()},
                )

    def open_text(self, host: str) -> str:
        return f"MX host {host} keeps failing; not tried for {self.open_for.total_seconds():.0f}s (circuit open)"
