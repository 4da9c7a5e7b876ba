"""Prefixed identifiers (docs/sending.md, D3, D24) and the API-key format ().

Ids are ``<prefix>_<26-char ULID-style suffix>``: a 48-bit millisecond timestamp and 80 random bits in Crockford
base32, so they sort by creation time and are not enumerable.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"

API_KEY_RE = re.compile(r"^sg_(live|test)_[0-9a-f]{32}$")
API_KEY_PREFIX_LENGTH = 16  # D3: `sg_live_a1b2c3d4`


def _ulid() -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A new id such as ``msg_01j9...``; dynamic templates use ``d-`` (SendGrid's form)."""
    if prefix == "d":
        return "d-" + secrets.token_hex(16)
    return f"{prefix}_{_ulid()}"


def new_api_key(environment: str) -> str:
    """A new secret API key, ``sg_live_`` or ``sg_test_`` and 32 lowercase hex characters (D3)."""
    if environment not in ("live", "test"):
        raise ValueError(f"environment must be live or test, not {environment!r}")
    return f"sg_{environment}_{secrets.token_hex(16)}"


def hash_api_key(key: str) -> str:
    """The SHA-256 hex digest that is all we store of a key (D3)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_prefix(key: str) -> str:
    return key[:API_KEY_PREFIX_LENGTH]
