"""DNS blocklists (DNSBL/URIBL) and how to read their answers.

A look-up asks for an A record under the list's zone: ``<reversed IPv4 octets>.<zone>`` (IPv6: reversed nibbles, for
lists that take IPv6) or ``<domain>.<zone>``. NXDOMAIN (or an empty answer) means "not listed". An answer is either a
listing or one of the list's *error codes*, which say the query was refused (Spamhaus answers 127.255.255.254 to
queries through public resolvers, 127.255.255.255 to excessive use; SURBL answers 127.0.0.1 when access is blocked).
Error codes, DNS failures (timeout, SERVFAIL, REFUSED) and answers outside 127.0.0.0/8 (some resolvers turn NXDOMAIN
into an advert server's address) are *errors*, never listings.

Known lists have their codes here (:data:`KNOWN`); any other zone an operator configures gets the usual convention:
127.0.0.2-127.0.0.254 is a listing, anything else an error.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from scaisend.resolver import DnsLookupError, DnsNameNotFoundError, DnsNoAnswerError, Resolver, ipv4_answer

TargetKind = Literal["ip", "domain"]


class Status(StrEnum):
    LISTED = "listed"
    CLEAN = "clean"
    ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    status: Status
    ttl: int = 0  # seconds the answer may be cached (0: unknown, the check interval applies)
    detail: str = ""  # the answer codes, or what went wrong


Classifier = Callable[[ipaddress.IPv4Address], Status]


def _in(first: str, last: str) -> Callable[[ipaddress.IPv4Address], bool]:
    low, high = ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    return lambda address: low <= address <= high


def conventional(address: ipaddress.IPv4Address) -> Status:
    """127.0.0.2-127.0.0.254 listed (RFC 5782 §2.3), anything else an error."""
    return Status.LISTED if _in("127.0.0.2", "127.0.0.254")(address) else Status.ERROR


def _spamhaus(first: str, last: str) -> Classifier:
    listed = _in(first, last)
    return lambda address: Status.LISTED if listed(address) else Status.ERROR


def _surbl(address: ipaddress.IPv4Address) -> Status:
    """multi.surbl.org: bit flags in the last octet; 127.0.0.1 alone means access is blocked."""
    last = int(address) & 0xFF
    return Status.LISTED if _in("127.0.0.0", "127.0.0.255")(address) and last & ~1 else Status.ERROR


@dataclass(frozen=True)
class Blocklist:
    zone: str
    kind: TargetKind
    classify: Classifier = conventional
    ipv6: bool = False  # takes IPv6 queries (reversed nibbles)


KNOWN: dict[str, Blocklist] = {
    b.zone: b
    for b in (
        Blocklist("zen.spamhaus.org", "ip", _spamhaus("127.0.0.2", "127.0.0.11"), ipv6=True),
        Blocklist("bl.spamcop.net", "ip"),
        Blocklist("b.barracudacentral.org", "ip"),
        Blocklist("dbl.spamhaus.org", "domain", _spamhaus("127.0.1.2", "127.0.1.199")),
        Blocklist("multi.surbl.org", "domain", _surbl),
    )
}


def blocklist(zone: str, kind: TargetKind) -> Blocklist:
    """The known list of that zone, or a conventional one of ``kind``."""
    zone = zone.strip().lower().rstrip(".")
    known = KNOWN.get(zone)
    return known if known is not None and known.kind == kind else Blocklist(zone, kind)


def query_name(target: str, blocklist: Blocklist) -> str | None:
    """The name to look up, or ``None`` when the list cannot be asked about ``target`` (IPv6 on an IPv4-only list)."""
    if blocklist.kind == "domain":
        return f"{target.rstrip('.').lower()}.{blocklist.zone}"
    address = ipaddress.ip_address(target)
    if address.version == 6 and not blocklist.ipv6:
        return None
    # reverse_pointer: "4.3.2.1.in-addr.arpa" / nibbles + ".ip6.arpa"
    return address.reverse_pointer.rsplit(".", 2)[0] + "." + blocklist.zone


async def look_up(resolver: Resolver, target: str, blocklist: Blocklist) -> Verdict:
    """Ask ``blocklist`` about ``target`` once."""
    name = query_name(target, blocklist)
    if name is None:
        return Verdict(Status.CLEAN, detail="not asked: the list takes no IPv6 queries")
    try:
        addresses, ttl = await ipv4_answer(resolver, name)
    except (DnsNameNotFoundError, DnsNoAnswerError):
        return Verdict(Status.CLEAN)
    except DnsLookupError as exc:
        return Verdict(Status.ERROR, detail=exc.reason)
    codes = sorted(ipaddress.IPv4Address(a) for a in addresses)
    statuses = {blocklist.classify(code) for code in codes}
    detail = ",".join(str(code) for code in codes)
    if Status.ERROR in statuses or not codes:
        return Verdict(Status.ERROR, ttl, f"error code {detail}")
    return Verdict(Status.LISTED, ttl, detail)
