"""Deliver one message to the recipients of one domain (docs/architecture.md, docs/compose.md, docs/delivery.md, D21 step 4; RFC 5321 §5.1; KumoMTA's
``smtp_dispatcher``): route → for each MX host in preference order, a pooled connection → one SMTP transaction per
recipient, each with that recipient's signed return path (D41), on the same connection.

MX host addresses that :mod:`scaisend.address_policy` refuses (loopback, private, link-local and metadata, the IPv6
forms that translate to them; D42) are never connected to unless ``SMTP_ALLOW_PRIVATE_TARGETS`` is set or the route is
``SMTP_RELAY_HOST``; a host left with no address is a connection-level failure with that reason. Connection-level
failures (no address, refused, timeout, greeting or EHLO refused, TLS required but unavailable) move on to the next MX
host, then the next address, up to :data:`MAX_HOSTS` hosts and :data:`MAX_ADDRESSES` addresses
each. Once a transaction has started its replies are final for this attempt. When no host could be reached every
recipient is deferred with the last failure. A host whose circuit is open (:mod:`~scaisend.delivery.circuit_breaker`)
is skipped like an unreachable one, without connecting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from scaisend.address_policy import forbidden_reason, parse_address
from scaisend.delivery.bounce_classifier import local_result
from scaisend.delivery.mx import Destination, RouteFailure
from scaisend.delivery.result import BounceClassification, DeliveryResult
from scaisend.delivery.runtime import DeliveryRuntime
from scaisend.delivery.smtp_session import ConnectFailure, SmtpConnection, open_connection, send_message

logger = logging.getLogger(__name__)

MAX_HOSTS = 5
MAX_ADDRESSES = 2


def _route_failure(failure: RouteFailure, recipients: list[str]) -> list[DeliveryResult]:
    classification = (
        BounceClassification.INVALID_ADDRESS if failure.permanent else BounceClassification.TECHNICAL_FAILURE
    )
    return [
        local_result(
            r, permanent=failure.permanent, status=failure.status, text=failure.text, classification=classification
        )
        for r in recipients
    ]


def _permitted(rt: DeliveryRuntime, route: Destination, host: str, addresses: list[str]) -> list[str] | ConnectFailure:
    """The addresses of ``host`` we may connect to, or why there are none (D42)."""
    if route.relay or rt.settings.SMTP_ALLOW_PRIVATE_TARGETS:
        return addresses
    refused = []
    allowed = []
    for text in addresses:
        address = parse_address(text)
        reason = forbidden_reason(address) if address is not None else "not an IP address"
        if reason is None:
            allowed.append(text)
        else:
            refused.append(f"{text}: {reason}")
    if refused:
        logger.warning("MX address refused", extra={"mx_host": host, "refused": refused})
    if allowed:
        return allowed
    return ConnectFailure.local(
        host,
        "error",
        "4.4.4",
        f"MX host {host} resolves only to non-public addresses ({', '.join(refused)}); not delivered there "
        "(SMTP_ALLOW_PRIVATE_TARGETS)",
    )


async def _open(rt: DeliveryRuntime, host: str, addresses: list[str], port: int) -> SmtpConnection | ConnectFailure:
    """The first of ``addresses`` (not empty) of ``host`` that gives a ready session, else the last failure."""
    result: SmtpConnection | ConnectFailure | None = None
    for address in addresses[:MAX_ADDRESSES]:
        result = await open_connection(
            host, address, port, helo_name=rt.settings.SMTP_HOSTNAME, timeout=rt.settings.smtp_timeout, policy=rt.tls
        )
        if isinstance(result, SmtpConnection):
            break
    assert result is not None
    return result


async def _each_recipient(
    conn: SmtpConnection, recipients: list[str], return_path: Callable[[str], str], data: bytes
) -> list[DeliveryResult]:
    """One transaction per recipient; once the connection is lost the rest are deferred (the next attempt retries
    them)."""
    results: list[DeliveryResult] = []
    for r in recipients:
        if not conn.usable:
            results.append(
                local_result(
                    r, permanent=False, status="4.4.2", text=f"Connection lost: {conn.host}", mx_host=conn.host
                )
            )
            continue
        results.extend(await send_message(conn, return_path(r), [r], data))
    return results


async def deliver_to_domain(
    rt: DeliveryRuntime, domain: str, recipients: list[str], return_path: Callable[[str], str], data: bytes
) -> list[DeliveryResult]:
    """One result per recipient (all of ``domain``), in order; ``return_path`` gives each recipient's envelope
    sender."""
    route = await rt.mx.route(domain)
    if isinstance(route, RouteFailure):
        return _route_failure(route, recipients)
    last: ConnectFailure | None = None
    for host in route.hosts[:MAX_HOSTS]:
        if rt.breakers.shed(host, rt.pool.full(host, route.port)):
            last = ConnectFailure.local(
                host, "error", "4.4.5", f"MX host {host} is failing and all its connections are busy"
            )
            continue
        if not rt.breakers.allow(host):
            last = ConnectFailure.local(host, "error", "4.4.1", rt.breakers.open_text(host))
            continue
        found = await rt.mx.addresses(host)
        if not found:
            last = ConnectFailure.local(host, "error", "4.4.4", f"MX host {host} has no address record")
            continue
        addresses = _permitted(rt, route, host, found)
        if isinstance(addresses, ConnectFailure):
            last = addresses
            continue
        async with rt.pool.connection(host, route.port, partial(_open, rt, host, addresses, route.port)) as conn:
            if isinstance(conn, ConnectFailure):
                rt.breakers.failed(host)
                last = conn
                continue
            results = await _each_recipient(conn, recipients, return_path, data)
        rt.breakers.record(host, results)
        return results
    assert last is not None  # a Destination always has at least one host
    return last.results(recipients)
