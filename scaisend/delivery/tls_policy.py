"""Outbound TLS policy (D13, docs/delivery.md).

- ``opportunistic`` (default): STARTTLS whenever the MX offers it, without checking the certificate (RFC 7435:
  encryption against passive eavesdroppers beats plaintext, and most MX certificates would not verify anyway). If
  the handshake fails, the same host is tried again at once in plaintext, and the host is remembered as
  "plaintext only" for :data:`PLAINTEXT_MEMORY` so later connections skip the broken STARTTLS (a bounded memory:
  at most :data:`~scaisend.delivery.expiring_cache.MAX_ENTRIES` hosts, D67).
- ``required``: STARTTLS with a verified certificate (system CAs, host name checked against the MX name) or no
  delivery: the recipient is deferred with ``4.7.10`` ("TLS required") and retried on the normal schedule.

MTA-STS and DANE are later additions (D13). Time comes from the injected clock, so tests move it.
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import MutableMapping
from datetime import timedelta

from scaisend.clock import Clock
from scaisend.delivery.expiring_cache import expiring_cache

PLAINTEXT_MEMORY = timedelta(hours=1)


class TlsPlan(enum.StrEnum):
    """What a new connection to a host does about STARTTLS."""

    PLAINTEXT = "plaintext"  # opportunistic, but the host's STARTTLS failed recently
    OPPORTUNISTIC = "opportunistic"  # STARTTLS when offered, no certificate check, plaintext if it fails
    REQUIRED = "required"  # verified STARTTLS or no delivery


class TlsPolicy:
    """The ``SMTP_TLS_POLICY`` mode plus the memory of hosts whose STARTTLS failed."""

    def __init__(
        self,
        mode: str,
        clock: Clock,
        *,
        verified_context: ssl.SSLContext | None = None,
        plaintext_memory: timedelta = PLAINTEXT_MEMORY,
    ) -> None:
        if mode not in ("opportunistic", "required"):
            raise ValueError(f"unknown TLS policy {mode!r}")
        self.mode = mode
        self._broken: MutableMapping[str, bool] = expiring_cache(clock, plaintext_memory)
        self._verified = verified_context or ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._unverified = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._unverified.check_hostname = False
        self._unverified.verify_mode = ssl.CERT_NONE

    def plan(self, host: str) -> TlsPlan:
        if self.mode == "required":
            return TlsPlan.REQUIRED
        return TlsPlan.PLAINTEXT if host.lower() in self._broken else TlsPlan.OPPORTUNISTIC

    def context(self, plan: TlsPlan) -> ssl.SSLContext:
        """The client context for ``plan``: verifying for ``required``, accepting any certificate otherwise."""
        return self._verified if plan is TlsPlan.REQUIRED else self._unverified

    def starttls_failed(self, host: str) -> None:
        """Remember that ``host``'s STARTTLS failed: plaintext for a while (opportunistic mode only)."""
        if self.mode == "opportunistic":
            self._broken[host.lower()] = True
