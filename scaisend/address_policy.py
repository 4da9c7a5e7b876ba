"""Which IP addresses ScaiSend may connect to on a tenant's or the internet's say (issue 9, finding 6; D8, D42).

One policy for every outbound connection whose destination someone else chose: webhook URLs
(:mod:`scaisend.webhooks.url_guard`) and recipient MX hosts (:mod:`scaisend.delivery.dispatcher`). Refused:
loopback, private (RFC 1918, ULA), link-local (the cloud metadata address 169.254.169.254 and fe80::/10),
unspecified, multicast, shared (100.64/10), documentation and every other range that is not globally routable, and
the IPv6 forms that carry an IPv4 address a router may translate into one of those: IPv4-mapped ``::ffff:0:0/96`` (its
IPv4 address is checked), IPv4-compatible ``::/96``, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4 ``2002::/16``
and Teredo ``2001::/32``, and site-local ``fec0::/10``. Python's ``ipaddress`` calls several of these global, so they are
listed here explicitly.
"""

from __future__ import annotations

import ipaddress
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges refused whatever ``ipaddress`` says about them, with the reason given to the user
_TRANSLATED: Final = (
    (ipaddress.IPv6Network("::/96"), "IPv4-compatible IPv6"),
    (ipaddress.IPv6Network("64:ff9b::/96"), "NAT64"),
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "NAT64 (local use)"),
    (ipaddress.IPv6Network("2002::/16"), "6to4"),
    (ipaddress.IPv6Network("2001::/32"), "Teredo"),
    (ipaddress.IPv6Network("fec0::/10"), "site-local"),
)


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be connected to on someone else's say, or ``None`` for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden_reason(address.ipv4_mapped)
        if address.is_loopback or address.is_unspecified:  # ::1 and :: sit inside ::/96
            return "loopback" if address.is_loopback else "unspecified"
        for network, reason in _TRANSLATED:
            if address in network:
                return reason
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local (cloud metadata)"),
        (address.is_unspecified, "unspecified"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private network"),
        (not address.is_global, "reserved, not globally routable"),
    )
    return next((reason for hit, reason in checks if hit), None)


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (IPv6 zone ids refused), or ``None`` when it is not one."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
