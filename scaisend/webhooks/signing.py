"""Endpoint webhook signatures (D6, docs/webhooks.md, D7).

Every POST to an endpoint carries ``X-ScaiSend-Signature: t=<unix seconds>,v1=<hex>`` where
``v1 = HMAC-SHA256(key=signing secret, message=f"{t}.{raw body}")``. The key is the whole secret string as shown at
creation (``whsec_…``), UTF-8 encoded; the message is the timestamp, a dot and the exact body bytes. Receivers
recompute it with :func:`verify_signature` and refuse timestamps older than 5 minutes (replay window).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Final

from scaisend.crypto import hmac_sha256_hex

SIGNATURE_HEADER: Final = "X-ScaiSend-Signature"
EVENT_ID_HEADER: Final = "X-ScaiSend-Event-Id"
EVENT_TYPE_HEADER: Final = "X-ScaiSend-Event-Type"
SECRET_PREFIX: Final = "whsec_"
DEFAULT_TOLERANCE: Final = 300


def new_signing_secret() -> str:
    """A fresh ``whsec_`` secret: 32 random bytes in hex."""
    return SECRET_PREFIX + secrets.token_hex(32)


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def compute_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """The hex ``v1`` value for ``body`` sent at ``timestamp``."""
    return hmac_sha256_hex(secret, str(timestamp).encode() + b"." + _as_bytes(body))


def signature_header(secret: str, timestamp: int, body: bytes | str) -> str:
    """The value of ``X-ScaiSend-Signature``."""
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str, header: str, body: bytes | str, now: datetime | float, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """True when ``header`` (the ``X-ScaiSend-Signature`` value) signs ``body`` with ``secret`` and its timestamp is
    within ``tolerance`` seconds of ``now`` (a datetime or Unix seconds). For receivers::

        ok = verify_signature(secret, request.headers["X-ScaiSend-Signature"], raw_body, time.time())

    :param secret: the endpoint's ``whsec_…`` signing secret
    :param header: the header value, ``t=<unix>,v1=<hex>`` (several ``v1`` entries are accepted)
    :param body: the raw request body exactly as received
    :param now: the receiver's current time
    :param tolerance: the replay window in seconds
    """
    timestamp, candidates = _parse(header)
    if timestamp is None or not candidates:
        return False
    current = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(current - timestamp) > tolerance:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
