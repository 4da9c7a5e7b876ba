"""Where a recipient domain's mail goes (docs/architecture.md, docs/compose.md, docs/delivery.md, D21 step 4, D10; RFC 5321 §5.1, RFC 7505).

:meth:`MxResolver.route` answers with a :class:`Destination` (MX hosts by preference, or the domain itself as an
implicit MX when it has no MX but has A/AAAA records, or ``SMTP_RELAY_HOST`` when that is set) or a
:class:`RouteFailure`:

| DNS answer                                   | result                                               |
|----------------------------------------------|------------------------------------------------------|
| MX records                                   | the hosts, lowest preference first                   |
| only a null MX (``MX 0 .``, RFC 7505)        | permanent ``5.1.10``: the domain accepts no mail     |
| no MX, but A/AAAA                            | implicit MX: the domain itself                       |
| no MX and no address, or NXDOMAIN            | permanent ``5.1.2``: bad destination domain          |
| timeout, SERVFAIL, REFUSED                   | temporary ``4.4.3``: retry later                     |

This is the boundary where DNS errors (already ScaiSend's own :class:`~scaisend.resolver.DnsLookupError` family, from
``resolver.py``, which translates dnspython's) become delivery outcomes. Routes and permanent failures are cached
``MX_CACHE_TTL`` seconds by the injected clock; temporary failures are not cached. MX host addresses are cached the
same way (:meth:`MxResolver.addresses`); the relay host is resolved by the operating system (``/etc/hosts`` included).
Both caches hold at most :data:`~scaisend.delivery.expiring_cache.MAX_ENTRIES` entries (D67).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta

from scaisend.clock import Clock
from scaisend.delivery.expiring_cache import expiring_cache
from scaisend.metrics import MX_LOOKUPS, MX_RESOLUTION_FAILURES
from scaisend.resolver import (
    DnsLookupError,
    DnsNameNotFoundError,
    DnsNoAnswerError,
    DnsTimeoutError,
    Resolver,
    address_records,
    mx_records,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Destination:
    """The hosts to try, in order, for one recipient domain, and the TCP port."""

    domain: str
    hosts: tuple[str, ...]
    port: int
    implicit: bool = False
    relay: bool = False


@dataclass(frozen=True)
class RouteFailure:
    """No destination: ``permanent`` failures bounce, the others defer. ``status`` is the enhanced code."""

    permanent: bool
    status: str
    text: str


def _ascii_domain(domain: str) -> str | None:
    try:
        name = domain.strip().rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return name if name and "." in name else None


def split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """``"smtp.example.com:2525"`` → (host, 2525); ``"[::1]:25"`` and bare hosts work too."""
    text = value.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, default_port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _system_addresses(host: str, port: int) -> list[str]:
    """The relay host resolved the way the OS does (``/etc/hosts`` included): it is configuration, not an MX."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        logger.warning("relay host has no address", extra={"mx_host": host, "reason": str(exc)})
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class MxResolver:
    """MX routing with a bounded TTL cache; one per process (it lives in the delivery runtime)."""

    def __init__(self, resolver: Resolver, clock: Clock, *, ttl: int, port: int, relay: str = "") -> None:
        self._resolver = resolver
        self._ttl = timedelta(seconds=ttl)
        self._port = port
        self._relay = split_host_port(relay, 25) if relay.strip() else None
        self._routes: MutableMapping[str, Destination | RouteFailure] = expiring_cache(clock, self._ttl)
        self._addresses: MutableMapping[str, list[str]] = expiring_cache(clock, self._ttl)

    async def route(self, domain: str) -> Destination | RouteFailure:
        """Where mail for ``domain`` goes (see the module table)."""
        if self._relay is not None:
            host, port = self._relay
            return Destination(domain, (host,), port, relay=True)
        name = _ascii_domain(domain)
        if name is None:
            return RouteFailure(True, "5.1.3", f"Bad recipient address syntax: domain {domain!r}")
        cached = self._routes.get(name)
        if cached is not None:
            return cached
        MX_LOOKUPS.inc()
        result = await self._lookup(name)
        if isinstance(result, RouteFailure) and not result.permanent:
            return result
        if self._ttl > timedelta(0):
            self._routes[name] = result
        return result

    async def _lookup(self, name: str) -> Destination | RouteFailure:
        try:
            records = await mx_records(self._resolver, name)
        except DnsNoAnswerError:
            return await self._implicit(name)
        except DnsLookupError as exc:
            return self._failure(name, exc)
        usable = [r for r in records if not r.is_null]
        if not usable:
            MX_RESOLUTION_FAILURES.labels("no_answer").inc()
            return RouteFailure(True, "5.1.10", f"Recipient address has null MX: {name} accepts no mail (RFC 7505)")
        return Destination(name, tuple(dict.fromkeys(r.host for r in usable)), self._port)

    async def _implicit(self, name: str) -> Destination | RouteFailure:
        """RFC 5321 §5.1: no MX records, so the domain's own A/AAAA records are its (implicit) MX."""
        try:
            addresses = await address_records(self._resolver, name)
        except DnsLookupError as exc:
            return self._failure(name, exc, no_mx=True)
        self._remember_addresses(name, addresses)
        return Destination(name, (name,), self._port, implicit=True)

    def _failure(self, name: str, exc: DnsLookupError, *, no_mx: bool = False) -> RouteFailure:
        if isinstance(exc, DnsNameNotFoundError):
            MX_RESOLUTION_FAILURES.labels("nxdomain").inc()
            return RouteFailure(True, "5.1.2", f"Domain not found: {name} (NXDOMAIN)")
        if isinstance(exc, DnsNoAnswerError):
            MX_RESOLUTION_FAILURES.labels("no_answer").inc()
            return RouteFailure(True, "5.1.2", f"Domain has no MX and no address records: {name}")
        reason = "timeout" if isinstance(exc, DnsTimeoutError) else "error"
        MX_RESOLUTION_FAILURES.labels(reason).inc()
        what = "address" if no_mx else "MX"
        logger.warning("MX lookup failed", extra={"domain": name, "reason": exc.reason})
        return RouteFailure(False, "4.4.3", f"DNS {what} lookup of {name} failed: {exc.reason}")

    def _remember_addresses(self, host: str, addresses: list[str]) -> None:
        if self._ttl > timedelta(0) and addresses:
            self._addresses[host] = addresses

    async def addresses(self, host: str) -> list[str]:
        """The IP addresses of an MX host (an IP literal is its own address); empty when it has none right now."""
        if _is_ip(host):
            return [host]
        if self._relay is not None and host == self._relay[0]:
            return await _system_addresses(host, self._relay[1])
        cached = self._addresses.get(host)
        if cached is not None:
            return cached
        try:
            addresses = await address_records(self._resolver, host)
        except DnsLookupError as exc:
            logger.warning("MX host has no address", extra={"mx_host": host, "reason": exc.reason})
            return []
        self._remember_addresses(host, addresses)
        return addresses
