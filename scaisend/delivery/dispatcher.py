"""Deliver one message to the recipients of one domain (spec §6.1 step 4; RFC 5321 §5.1; KumoMTA's
``smtp_dispatcher``): route → for each MX host in preference order, a pooled connection → one SMTP transaction.

Connection-level failures (no address, refused, timeout, greeting or EHLO refused, TLS required but unavailable)
move on to the next MX host, then the next address, up to :data:`MAX_HOSTS` hosts and :data:`MAX_ADDRESSES` addresses
each. Once a transaction has started its replies are final for this attempt. When no host could be reached every
recipient is deferred with the last failure. A host whose circuit is open (:mod:`~scaisend.delivery.circuit_breaker`)
is skipped like an unreachable one, without connecting.
"""

from __future__ import annotations

from functools import partial

from scaisend.delivery.bounce_classifier import local_result
from scaisend.delivery.mx import RouteFailure
from scaisend.delivery.result import BounceClassification, DeliveryResult
from scaisend.delivery.runtime import DeliveryRuntime
from scaisend.delivery.smtp_session import ConnectFailure, SmtpConnection, open_connection, send_message

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


async def deliver_to_domain(
    rt: DeliveryRuntime, domain: str, recipients: list[str], mail_from: str, data: bytes
) -> list[DeliveryResult]:
    """One result per recipient (all of ``domain``), in order."""
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
        addresses = await rt.mx.addresses(host)
        if not addresses:
            last = ConnectFailure.local(host, "error", "4.4.4", f"MX host {host} has no address record")
            continue
        async with rt.pool.connection(host, route.port, partial(_open, rt, host, addresses, route.port)) as conn:
            if isinstance(conn, ConnectFailure):
                rt.breakers.failed(host)
                last = conn
                continue
            results = await send_message(conn, mail_from, recipients, data)
        rt.breakers.record(host, results)
        return results
    assert last is not None  # a Destination always has at least one host
    return last.results(recipients)
