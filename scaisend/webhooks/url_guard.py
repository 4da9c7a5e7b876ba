"""Webhook URL safety (D8, docs/webhooks.md, D6, D7): the SSRF guard, applied when a URL is saved and again before every POST.

Rules:

- the URL is ``http`` or ``https`` with a host; ``ENVIRONMENT=production`` demands ``https``;
- unless ``WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`` (dev and tests), every address the host resolves to must pass
  :mod:`scaisend.address_policy` (globally routable, and none of the IPv6 forms that translate to IPv4: NAT64, 6to4,
  IPv4-compatible, Teredo, site-local); ``localhost`` and ``*.localhost`` are refused without a lookup. One bad
  address refuses the host (no round-robin tricks).

Time of check vs time of use: DNS can change between the check and the connection (DNS rebinding). We do not let the
HTTP client resolve the name again: :func:`check_destination` returns a :class:`Target` whose URL carries the checked
IP address, with the original name in the ``Host`` header and as the TLS SNI name (so certificate verification is
still against the name). The POST therefore goes to exactly the address that was checked. Names are resolved through
:mod:`scaisend.resolver` (``DNS_NAMESERVERS``). When private networks are allowed nothing is checked or pinned.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from scaisend.address_policy import IPAddress, forbidden_reason, parse_address
from scaisend.errors import BadRequestError
from scaisend.resolver import DnsLookupError, Resolver, address_records
from scaisend.settings import Settings

MAX_URL_LENGTH: Final = 2048


class UnsafeWebhookUrlError(BadRequestError):
    """400: the URL is malformed, not https in production, or points at a non-public address."""


@dataclass(frozen=True)
class Target:
    """Where to send: ``url`` (host replaced by the checked IP when pinned), extra ``headers`` (``Host``) and httpx
    request ``extensions`` (``sni_hostname``)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def check_url_syntax(url: str, settings: Settings) -> httpx.URL:
    """The parsed URL, or :class:`UnsafeWebhookUrlError` naming what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrlError(f"Webhook URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise UnsafeWebhookUrlError(f"Invalid webhook URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnsafeWebhookUrlError("Webhook URL must be an absolute http(s) URL")
    if parsed.scheme == "http" and settings.ENVIRONMENT == "production":
        raise UnsafeWebhookUrlError("Webhook URL must use https")
    return parsed


def _refuse_address(address: IPAddress) -> None:
    reason = forbidden_reason(address)
    if reason is not None:
        raise UnsafeWebhookUrlError(f"Webhook URL points at a non-public address ({address}: {reason})")


async def resolve_public(host: str, resolver: Resolver) -> list[IPAddress]:
    """Every address of ``host``, all of them public, or :class:`UnsafeWebhookUrlError`."""
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeWebhookUrlError(f"Webhook URL points at a non-public address ({host}: loopback)")
    try:
        found = await address_records(resolver, host)
    except DnsLookupError as exc:
        raise UnsafeWebhookUrlError(f"Webhook URL host does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(a) for a in found]
    if not addresses:
        raise UnsafeWebhookUrlError(f"Webhook URL host does not resolve: {host}")
    for address in addresses:
        _refuse_address(address)
    return addresses


async def check_destination(url: str, settings: Settings, resolver: Resolver) -> Target:
    """Validate ``url`` and, when the guard is on, resolve and check its host and pin the request to the address."""
    parsed = check_url_syntax(url, settings)
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return Target(str(parsed))
    literal = parse_address(parsed.host)
    if literal is not None:
        _refuse_address(literal)
        return Target(str(parsed))
    addresses = await resolve_public(parsed.host, resolver)
    pinned = next((a for a in addresses if a.version == 4), addresses[0])
    extensions: dict[str, Any] = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return Target(str(parsed.copy_with(host=str(pinned))), {"Host": parsed.netloc.decode("ascii")}, extensions)
