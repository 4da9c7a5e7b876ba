"""The reputation monitor: runs in the exporter process, looks things up on a schedule and keeps the latest result of
each check in memory for the exporter's ``reputation`` collector (scrapes never wait on DNS).

Politeness: each (blocklist, target) is asked at most once per ``max(REPUTATION_CHECK_INTERVAL, answer TTL)``,
whatever the scrape rate; at most :data:`CONCURRENCY` look-ups run at once. A failed look-up keeps the last known
listing state and marks the check as failing (``scaisend_blocklist_check_error``); the same holds for DNS health
checks, so "DNS did not answer" never reads as "the record is gone".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.domains.verification import CheckResult, check_mx, health_checks
from scaisend.reputation.blocklists import Blocklist, Status, TargetKind, blocklist, look_up
from scaisend.reputation.targets import WatchedDomain, sender_domains, sending_ips
from scaisend.resolver import Resolver
from scaisend.settings import Settings

logger = logging.getLogger(__name__)

CONCURRENCY = 8
MAX_SLEEP = 30.0  # seconds between passes at most, so new domains and addresses are picked up promptly
T = TypeVar("T")


@dataclass(frozen=True)
class Listing:
    """The latest state of one (blocklist, target)."""

    target: str
    kind: TargetKind
    blocklist: str
    listed: bool | None = None  # None until one look-up has succeeded
    error: bool = False
    checked_at: float = 0.0
    next_at: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class Health:
    """The latest state of one (domain, check)."""

    domain: str
    check: str
    ok: bool | None = None
    error: bool = False
    checked_at: float = 0.0
    message: str = ""


@dataclass
class Snapshot:
    listings: list[Listing] = field(default_factory=list)
    health: list[Health] = field(default_factory=list)


class ReputationMonitor:
    def __init__(
        self,
        settings: Settings,
        resolver: Resolver,
        maker: async_sessionmaker[AsyncSession],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.maker = maker
        self.clock = clock
        self.interval = settings.reputation_check_interval.total_seconds()
        self.ip_lists = [blocklist(z, "ip") for z in _zones(settings.REPUTATION_IP_BLOCKLISTS)]
        self.domain_lists = [blocklist(z, "domain") for z in _zones(settings.REPUTATION_DOMAIN_BLOCKLISTS)]
        self._listings: dict[tuple[str, str], Listing] = {}
        self._health: dict[tuple[str, str], Health] = {}
        self._health_due: dict[str, float] = {}
        self._semaphore = asyncio.Semaphore(CONCURRENCY)

    def snapshot(self) -> Snapshot:
        return Snapshot(list(self._listings.values()), list(self._health.values()))

    async def _bounded(self, work: Awaitable[T]) -> T:
        async with self._semaphore:
            return await work

    # --- one pass ---------------------------------------------------------------------------------------------------
    async def run_once(self) -> None:
        """Check whatever is due now."""
        now = self.clock()
        ips = await sending_ips(self.settings, self.resolver)
        async with self.maker() as session:
            domains = await sender_domains(session)
        watched = [*domains, WatchedDomain(self.settings.BOUNCE_DOMAIN.lower(), None)]
        pairs = [(b, ip) for b in self.ip_lists for ip in ips]
        pairs += [(b, d.domain) for b in self.domain_lists for d in domains]
        self._forget(self._listings, {(b.zone, t) for b, t in pairs})
        self._forget(self._health, {(d.domain, c) for d in watched for c in _checks(d)})
        for gone in set(self._health_due) - {d.domain for d in watched}:
            del self._health_due[gone]
        due_pairs = [(b, t) for b, t in pairs if self._listings.get((b.zone, t), _NEVER).next_at <= now]
        due_domains = [d for d in watched if self._health_due.get(d.domain, 0.0) <= now]
        await asyncio.gather(
            *(self._bounded(self._check_listing(b, t)) for b, t in due_pairs),
            *(self._bounded(self._check_health(d)) for d in due_domains),
        )

    def next_due(self) -> float:
        """Seconds until the earliest check falls due (at most :data:`MAX_SLEEP`)."""
        dues = [listing.next_at for listing in self._listings.values()] + list(self._health_due.values())
        wait = min(dues, default=self.clock() + MAX_SLEEP) - self.clock()
        return min(max(wait, 1.0), MAX_SLEEP)

    async def run_forever(self) -> None:
        """Pass after pass until cancelled; a failing pass is logged and the next one runs as usual."""
        while True:
            try:
                await self.run_once()
            except Exception:  # the database or DNS being down must not end the monitor
                logger.exception("reputation pass failed")
            await asyncio.sleep(self.next_due())

    # --- the checks -------------------------------------------------------------------------------------------------
    async def _check_listing(self, blocklist_: Blocklist, target: str) -> None:
        key = (blocklist_.zone, target)
        verdict = await look_up(self.resolver, target, blocklist_)
        now = self.clock()
        last = self._listings.get(key, Listing(target, blocklist_.kind, blocklist_.zone))
        error = verdict.status is Status.ERROR
        listed = last.listed if error else verdict.status is Status.LISTED
        self._listings[key] = replace(
            last,
            listed=listed,
            error=error,
            checked_at=now,
            next_at=now + max(self.interval, verdict.ttl),
            detail=verdict.detail,
        )
        if error:
            logger.warning("blocklist look-up failed", extra={"blocklist": blocklist_.zone, "target": target,
                                                              "detail": verdict.detail})  # fmt: skip
        elif listed and not last.listed:
            logger.warning("listed on a blocklist", extra={"blocklist": blocklist_.zone, "target": target,
                                                           "codes": verdict.detail})  # fmt: skip

    async def _check_health(self, watched: WatchedDomain) -> None:
        if watched.key is None:
            results = [await check_mx(self.resolver, watched.domain)]
        else:
            results = await health_checks(
                self.resolver, watched.domain, self.settings, watched.key, watched.dmarc_policy
            )
        now = self.clock()
        self._health_due[watched.domain] = now + self.interval
        for result in results:
            self._record_health(watched.domain, result, now)

    def _record_health(self, domain: str, result: CheckResult, now: float) -> None:
        key = (domain, result.purpose)
        last = self._health.get(key, Health(domain, result.purpose))
        ok = last.ok if result.lookup_failed else result.passed
        self._health[key] = replace(last, ok=ok, error=result.lookup_failed, checked_at=now, message=result.message)

    @staticmethod
    def _forget(states: dict[tuple[str, str], T], keep: Iterable[tuple[str, str]]) -> None:
        wanted = set(keep)
        for key in [k for k in states if k not in wanted]:
            del states[key]


_NEVER = Listing("", "ip", "")


def _zones(setting: str) -> list[str]:
    return [zone.strip() for zone in setting.split(",") if zone.strip()]


def _checks(watched: WatchedDomain) -> tuple[str, ...]:
    return ("mx",) if watched.key is None else ("dkim", "spf", "dmarc", "mx")
