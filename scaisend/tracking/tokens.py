"""Tracking tokens (docs/compose.md): the opaque part of ``/t/o/{token}.gif``, ``/t/c/{token}?u=…`` and
``/t/u/{token}`` links written into outgoing mail by the compose stage and read back by the tracking endpoints.

Format (version 1)::

    token   = base64url_nopad( payload || tag )
    payload = "1" kind message_id "\\n" recipient [ "\\n" url_digest ]     (UTF-8)
    kind    = "o" (open) | "c" (click) | "u" (unsubscribe)
    tag     = HMAC-SHA256(key, payload)[:16]
    key     = HKDF-SHA256(SECRET_KEY, info="scaisend-tracking-token-v1")

``url_digest`` (click tokens only) is the first 16 hex characters of SHA-256 of the destination URL, so a click token
redirects only to the URL it was minted for (no open redirect through ``u=``). A token cannot be forged or enumerated
without ``SECRET_KEY``; it is bound to one message, one recipient and one kind. Rotation: tokens are signed with the
first of ``settings.secret_keys`` and verified against each, so links in mail already sent keep working while the old
key stays in ``SECRET_KEY_PREVIOUS``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scaisend.crypto import SecretKeys, key_list

VERSION = "1"
_TAG_BYTES = 16
_URL_DIGEST_CHARS = 16
_PURPOSE = b"scaisend-tracking-token-v1"


class TokenKind(enum.StrEnum):
    OPEN = "o"
    CLICK = "c"
    UNSUBSCRIBE = "u"


@dataclass(frozen=True)
class TrackingToken:
    """What a valid token says: which message, which recipient, which kind of link."""

    kind: TokenKind
    message_id: str
    recipient: str
    url_digest: str | None = None

    def matches_url(self, url: str) -> bool:
        """True when ``url`` is the destination this click token was minted for."""
        return self.url_digest is not None and hmac.compare_digest(self.url_digest, url_digest(url))


@lru_cache(maxsize=8)
def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(secret_key.encode())


def _tag(secret_key: str, payload: bytes) -> bytes:
    return hmac.new(_key(secret_key), payload, hashlib.sha256).digest()[:_TAG_BYTES]


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:_URL_DIGEST_CHARS]


def sign_token(
    secret_keys: SecretKeys, *, kind: TokenKind | str, message_id: str, recipient: str, url: str | None = None
) -> str:
    """A token for one link. ``url`` is required for click tokens (it binds the token to its destination)."""
    token_kind = TokenKind(kind)
    if (token_kind is TokenKind.CLICK) != (url is not None):
        raise ValueError("a click token needs the destination url; other kinds take none")
    if "\n" in message_id or "\n" in recipient:
        raise ValueError("message id and recipient cannot contain newlines")
    fields = [message_id, recipient] + ([url_digest(url)] if url is not None else [])
    payload = (VERSION + token_kind.value + "\n".join(fields)).encode()
    return base64.urlsafe_b64encode(payload + _tag(key_list(secret_keys)[0], payload)).rstrip(b"=").decode()


def verify_token(
    secret_keys: SecretKeys, token: str, *, kind: TokenKind | str | None = None, url: str | None = None
) -> TrackingToken | None:
    """The token's content, or ``None`` when it is malformed, forged, of another ``kind`` or (with ``url``) minted
    for another destination. Never raises on bad input."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if len(payload) < 2 or not any(hmac.compare_digest(tag, _tag(key, payload)) for key in key_list(secret_keys)):
        return None
    try:
        text = payload.decode()
        token_kind = TokenKind(text[1])
    except (UnicodeDecodeError, ValueError):
        return None
    fields = text[2:].split("\n")
    expected_fields = 3 if token_kind is TokenKind.CLICK else 2
    if text[0] != VERSION or len(fields) != expected_fields:
        return None
    parsed = TrackingToken(token_kind, fields[0], fields[1], fields[2] if token_kind is TokenKind.CLICK else None)
    if kind is not None and parsed.kind is not TokenKind(kind):
        return None
    if url is not None and not parsed.matches_url(url):
        return None
    return parsed
