"""The one place that builds a DNS resolver and the boundary where dnspython's exceptions become ScaiSend's
(docs/architecture.md; docs/domains.md, D14 sender-domain checks, docs/architecture.md, docs/compose.md, docs/delivery.md, D21 step 4 MX lookup).

``make_resolver(settings)`` points dnspython at ``DNS_NAMESERVERS`` (``host[:port]`` pairs, which is how tests reach
the loopback DNS server) or, when that is empty, at the system's ``/etc/resolv.conf``. The lookup functions return
plain Python values and raise only the :class:`DnsLookupError` family:

- :class:`DnsNameNotFoundError`: NXDOMAIN, the name does not exist;
- :class:`DnsNoAnswerError`: the name exists but has no record of the asked type (NODATA);
- :class:`DnsTimeoutError`: no server answered within the lifetime;
- :class:`DnsServerError`: every server failed (SERVFAIL, REFUSED, malformed answers) or another resolver error.

Results are never cached here: verification wants what DNS says now, and the MX cache (``MX_CACHE_TTL``) belongs to
the delivery stage.
"""

from __future__ import annotations

from typing import NamedTuple

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.TXT
import dns.resolver

from scaisend.settings import Settings

__all__ = [
    "DEFAULT_LIFETIME",
    "DEFAULT_TIMEOUT",
    "DnsLookupError",
    "DnsNameNotFoundError",
    "DnsNoAnswerError",
    "DnsServerError",
    "DnsTimeoutError",
    "MxRecord",
    "Resolver",
    "address_records",
    "ipv4_answer",
    "make_resolver",
    "mx_records",
    "txt_records",
]

Resolver = dns.asyncresolver.Resolver

DEFAULT_TIMEOUT = 2.0  # seconds one server is given for one query
DEFAULT_LIFETIME = 5.0  # seconds a whole lookup may take, retries and servers included
_EDNS_PAYLOAD = 1232  # the DNS-flag-day size: large DKIM TXT answers fit without a TCP retry


class DnsLookupError(Exception):
    """A DNS lookup failed; ``name`` and ``rdtype`` say which."""

    def __init__(self, name: str, rdtype: str, reason: str) -> None:
        super().__init__(f"{rdtype} lookup of {name}: {reason}")
        self.name = name
        self.rdtype = rdtype
        self.reason = reason


class DnsNameNotFoundError(DnsLookupError):
    """NXDOMAIN: the name does not exist."""


class DnsNoAnswerError(DnsLookupError):
    """The name exists but has no record of the asked type."""


class DnsTimeoutError(DnsLookupError):
    """No nameserver answered in time."""


class DnsServerError(DnsLookupError):
    """The nameservers failed (SERVFAIL, REFUSED, broken answers) or the resolver could not run."""


class MxRecord(NamedTuple):
    """One MX record; ``host`` has no trailing dot and is ``""`` for an RFC 7505 null MX (``MX 0 .``)."""

    preference: int
    host: str

    @property
    def is_null(self) -> bool:
        return self.host == ""


def make_resolver(
    settings: Settings, *, timeout: float = DEFAULT_TIMEOUT, lifetime: float = DEFAULT_LIFETIME
) -> Resolver:
    """A dnspython async resolver for ``settings``: ``DNS_NAMESERVERS`` when set, else the system configuration."""
    if settings.nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in settings.nameservers]
    else:
        try:
            resolver = dns.asyncresolver.Resolver(configure=True)
        except dns.resolver.NoResolverConfiguration:  # no usable resolv.conf: do what libc does, ask localhost
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = ["127.0.0.1"]
    resolver.timeout = timeout
    resolver.lifetime = lifetime
    resolver.use_edns(0, 0, _EDNS_PAYLOAD)
    resolver.cache = None
    return resolver


async def _resolve(resolver: Resolver, name: str, rdtype: str) -> dns.resolver.Answer:
    """Resolve ``name`` (always absolute, no search list) and translate dnspython's exceptions."""
    try:
        qname = dns.name.from_text(name)
        return await resolver.resolve(qname, rdtype, search=False)
    except dns.resolver.NXDOMAIN as exc:
        raise DnsNameNotFoundError(name, rdtype, "no such domain (NXDOMAIN)") from exc
    except dns.resolver.NoAnswer as exc:
        raise DnsNoAnswerError(name, rdtype, f"no {rdtype} record") from exc
    except dns.exception.Timeout as exc:  # LifetimeTimeout is a subclass
        raise DnsTimeoutError(name, rdtype, "timed out") from exc
    except dns.resolver.NoNameservers as exc:
        raise DnsServerError(name, rdtype, "nameservers failed (SERVFAIL or REFUSED)") from exc
    except dns.exception.DNSException as exc:
        raise DnsServerError(name, rdtype, str(exc) or type(exc).__name__) from exc


async def txt_records(resolver: Resolver, name: str) -> list[str]:
    """The TXT records at ``name``, one string per record with its character-strings joined (RFC 7208 §3.3,
    RFC 6376 §3.6.2.2). Bytes that are not UTF-8 are replaced."""
    answer = await _resolve(resolver, name, "TXT")
    records: list[str] = []
    for rdata in answer:
        assert isinstance(rdata, dns.rdtypes.ANY.TXT.TXT)
        records.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
    return records


async def mx_records(resolver: Resolver, name: str) -> list[MxRecord]:
    """The MX records of ``name`` sorted by preference (then host). A null MX is returned as ``host == ""``."""
    answer = await _resolve(resolver, name, "MX")
    records: list[MxRecord] = []
    for rdata in answer:
        assert isinstance(rdata, dns.rdtypes.ANY.MX.MX)
        host = "" if rdata.exchange == dns.name.root else rdata.exchange.to_text(omit_final_dot=True)
        records.append(MxRecord(int(rdata.preference), host.lower()))
    return sorted(records)


async def ipv4_answer(resolver: Resolver, name: str) -> tuple[list[str], int]:
    """The A addresses at ``name`` and the answer's TTL in seconds (DNS blocklist look-ups)."""
    answer = await _resolve(resolver, name, "A")
    ttl = answer.rrset.ttl if answer.rrset is not None else 0
    return [str(rdata.address) for rdata in answer], int(ttl)


async def address_records(resolver: Resolver, name: str) -> list[str]:
    """The A then AAAA addresses of ``name``. Raises only when neither type yields an address; the error of the
    A lookup is the one raised (NXDOMAIN stops at once, since AAAA cannot exist either)."""
    addresses: list[str] = []
    first_error: DnsLookupError | None = None
    for rdtype in ("A", "AAAA"):
        try:
            answer = await _resolve(resolver, name, rdtype)
        except DnsNameNotFoundError:
            raise
        except DnsLookupError as exc:
            first_error = first_error or exc
            continue
        addresses.extend(str(rdata.address) for rdata in answer)
    if not addresses and first_error is not None:
        raise first_error
    return addresses
