"""The SMTP client conversation (docs/architecture.md, docs/compose.md, docs/delivery.md, D17, D21 step 4; D12, D13; RFC 5321, RFC 3207, RFC 6531).

:func:`open_connection` connects to one address of an MX host, says ``EHLO <SMTP_HOSTNAME>`` and upgrades with
STARTTLS as the :mod:`~scaisend.delivery.tls_policy` says (an opportunistic handshake that fails is retried at once in
plaintext on a fresh connection). :func:`send_message` runs one transaction, ``MAIL FROM:<VERP>``, one ``RCPT TO`` per
recipient, ``DATA``, and returns one :class:`~scaisend.delivery.result.DeliveryResult` per recipient.

This is the boundary for aiosmtplib: its exceptions never leave this module. Connection-level trouble becomes a
:class:`ConnectFailure` (the caller tries the next MX) or, mid-transaction, a deferred result for every recipient not
yet answered. A connection that saw a timeout, a dropped socket or a 421 is marked ``broken`` and never reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from dataclasses import dataclass, field

import aiosmtplib
from aiosmtplib import (
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPException,
    SMTPHeloError,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from scaisend.delivery.bounce_classifier import local_result, reply_result
from scaisend.delivery.result import BounceClassification, BounceType, DeliveryResult, Outcome
from scaisend.delivery.tls_policy import TlsPlan, TlsPolicy
from scaisend.metrics import SMTP_CONNECTIONS, TLS_HANDSHAKE_FAILURES, TLS_HANDSHAKES

logger = logging.getLogger(__name__)

QUIT_TIMEOUT = 2.0


@dataclass(eq=False)
class SmtpConnection:
    """An open, greeted (and possibly TLS-upgraded) connection to one MX host."""

    client: aiosmtplib.SMTP
    host: str
    address: str
    port: int
    tls: bool
    last_used: float = field(default_factory=lambda: asyncio.get_running_loop().time())
    messages: int = 0
    broken: bool = False

    @property
    def usable(self) -> bool:
        return not self.broken and self.client.is_connected

    async def reset(self) -> bool:
        """``RSET`` before reuse; ``False`` (and broken) when the server no longer answers 250."""
        try:
            await self.client.rset()
        except (SMTPException, OSError):
            self.broken = True
            return False
        return True

    async def close(self) -> None:
        """``QUIT`` politely (briefly), then drop the socket."""
        if self.client.is_connected and not self.broken:
            with contextlib.suppress(SMTPException, OSError):
                await self.client.quit(timeout=QUIT_TIMEOUT)
        self.client.close()
        self.broken = True


@dataclass(frozen=True)
class ConnectFailure:
    """No usable session with ``host``. ``label`` is the ``smtp_connections_total`` outcome; ``response`` is the
    server's own reply when it refused the greeting or EHLO, else a reply-shaped local description."""

    host: str
    label: str
    code: int
    status: str
    response: str
    classification: BounceClassification = BounceClassification.TECHNICAL_FAILURE

    @classmethod
    def local(cls, host: str, label: str, status: str, text: str) -> ConnectFailure:
        return cls(host, label, 451, status, f"451 {status} {text}")

    def results(self, recipients: list[str]) -> list[DeliveryResult]:
        """Every recipient deferred with this failure: trouble before MAIL FROM never bounces (the next attempt
        may reach another MX, or this one in a better mood)."""
        return [
            DeliveryResult(
                r,
                Outcome.DEFERRED,
                self.code,
                self.status,
                self.response,
                mx_host=self.host,
                bounce_type=BounceType.SOFT,
                classification=self.classification,
            )
            for r in recipients
        ]


class _StartTlsFailed(Exception):
    """Internal: the opportunistic handshake failed; retry in plaintext."""


def _greeting_failure(host: str, exc: SMTPResponseException) -> ConnectFailure:
    reply = reply_result("", exc.code, exc.message, mx_host=host, tls=False)
    return ConnectFailure(
        host,
        "error",
        exc.code,
        reply.enhanced_status or "4.4.2",
        reply.response,
        reply.classification or BounceClassification.TECHNICAL_FAILURE,
    )


async def _upgrade(client: aiosmtplib.SMTP, host: str, plan: TlsPlan, policy: TlsPolicy) -> ConnectFailure | None:
    """STARTTLS per ``plan``: ``None`` when the session may go on (encrypted, or plaintext by policy)."""
    offered = client.supports_extension("starttls")
    if plan is TlsPlan.REQUIRED and not offered:
        return ConnectFailure.local(host, "error", "4.7.10", f"TLS required but {host} does not offer STARTTLS")
    if plan is TlsPlan.PLAINTEXT or not offered:
        return None
    TLS_HANDSHAKES.inc()
    try:
        await client.starttls(server_hostname=host, tls_context=policy.context(plan))
        await client.ehlo()
    except (SMTPException, ssl.SSLError, OSError) as exc:
        TLS_HANDSHAKE_FAILURES.inc()
        client.close()
        logger.warning("STARTTLS failed", extra={"mx_host": host, "tls_plan": plan.value, "error": str(exc)})
        if plan is TlsPlan.REQUIRED:
            return ConnectFailure.local(host, "error", "4.7.10", f"TLS required but STARTTLS with {host} failed: {exc}")
        raise _StartTlsFailed from exc
    return None


async def _connect(
    host: str, address: str, port: int, *, helo_name: str, timeout: float, plan: TlsPlan, policy: TlsPolicy
) -> SmtpConnection | ConnectFailure:
    client = aiosmtplib.SMTP(hostname=address, port=port, local_hostname=helo_name, timeout=timeout, start_tls=False)
    try:
        await client.connect()
    except SMTPConnectTimeoutError:
        SMTP_CONNECTIONS.labels("timeout").inc()
        return ConnectFailure.local(host, "timeout", "4.4.1", f"Connection timed out: {host} [{address}]:{port}")
    except SMTPConnectResponseError as exc:
        SMTP_CONNECTIONS.labels("error").inc()
        return _greeting_failure(host, exc)
    except (SMTPConnectError, OSError) as exc:
        SMTP_CONNECTIONS.labels("refused").inc()
        return ConnectFailure.local(host, "refused", "4.4.1", f"Connection refused: {host} [{address}]:{port} ({exc})")
    SMTP_CONNECTIONS.labels("success").inc()
    try:
        try:
            await client.ehlo()
        except SMTPHeloError:
            await client.helo()
        failure = await _upgrade(client, host, plan, policy)
    except SMTPResponseException as exc:
        client.close()
        return _greeting_failure(host, exc)
    except (SMTPException, OSError) as exc:
        client.close()
        return ConnectFailure.local(host, "error", "4.4.2", f"Connection lost during greeting: {host} ({exc})")
    if failure is not None:
        client.close()
        return failure
    return SmtpConnection(client, host, address, port, tls=client.get_transport_info("sslcontext") is not None)


async def open_connection(
    host: str, address: str, port: int, *, helo_name: str, timeout: float, policy: TlsPolicy
) -> SmtpConnection | ConnectFailure:
    """A ready session with ``host`` at ``address:port``, or why there is none."""
    plan = policy.plan(host)
    try:
        return await _connect(host, address, port, helo_name=helo_name, timeout=timeout, plan=plan, policy=policy)
    except _StartTlsFailed:
        policy.starttls_failed(host)
    return await _connect(
        host, address, port, helo_name=helo_name, timeout=timeout, plan=TlsPlan.PLAINTEXT, policy=policy
    )


def _needs_utf8(address: str) -> bool:
    return not address.isascii()


def _unsendable_without_smtputf8(recipients: list[str], host: str, tls: bool) -> dict[str, DeliveryResult]:
    """RFC 6531: a non-ASCII address needs the server's SMTPUTF8; without it the recipient bounces (5.6.7)."""
    return {
        r: local_result(
            r,
            permanent=True,
            status="5.6.7",
            mx_host=host,
            tls=tls,
            text=f"Non-ASCII address needs SMTPUTF8, which {host} does not offer",
        )
        for r in recipients
        if _needs_utf8(r)
    }


async def send_message(
    conn: SmtpConnection, mail_from: str, recipients: list[str], data: bytes
) -> list[DeliveryResult]:
    """One transaction on ``conn``: a result for every recipient, in order."""
    client, host, tls = conn.client, conn.host, conn.tls
    utf8 = client.supports_extension("smtputf8")
    results = {} if utf8 else _unsendable_without_smtputf8(recipients, host, tls)
    wanted = [r for r in recipients if r not in results]
    if not wanted:
        return [results[r] for r in recipients]
    options = ["SMTPUTF8"] if utf8 and any(_needs_utf8(r) for r in wanted) else []
    encoding = "utf-8" if options else "ascii"
    accepted: list[str] = []
    conn.messages += 1
    try:
        await client.mail(mail_from, options=options, encoding=encoding)
        for r in wanted:
            try:
                await client.rcpt(r, encoding=encoding)
                accepted.append(r)
            except SMTPRecipientRefused as exc:
                results[r] = reply_result(r, exc.code, exc.message, mx_host=host, tls=tls)
        if accepted:
            response = await client.data(data)
            for r in accepted:
                results[r] = reply_result(r, response.code, response.message, mx_host=host, tls=tls)
        elif client.is_connected:  # a 421 has already closed it
            await client.rset()
    except SMTPResponseException as exc:  # MAIL FROM refused, or the end-of-DATA reply was not 250
        for r in wanted:
            results.setdefault(r, reply_result(r, exc.code, exc.message, mx_host=host, tls=tls))
    except (SMTPServerDisconnected, SMTPTimeoutError, SMTPException, OSError) as exc:
        conn.broken = True
        if isinstance(exc, SMTPTimeoutError | TimeoutError):
            status, text = "4.4.1", f"Timed out waiting for {host}"
        else:
            status, text = "4.4.2", f"Connection lost: {host}"
        logger.warning("SMTP transaction interrupted", extra={"mx_host": host, "error": str(exc)})
        for r in wanted:
            results.setdefault(r, local_result(r, permanent=False, status=status, text=text, mx_host=host, tls=tls))
    if not client.is_connected:
        conn.broken = True  # e.g. the server sent 421 and aiosmtplib closed
    conn.last_used = asyncio.get_running_loop().time()
    return [results[r] for r in recipients]
