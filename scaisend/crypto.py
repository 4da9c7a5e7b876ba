"""Encryption at rest with ``SECRET_KEY`` (DKIM private keys, webhook secrets; D14) and HMAC token signing.

A Fernet key is derived from ``SECRET_KEY`` with HKDF-SHA256, so any string of 16+ characters is a usable secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(ValueError):
    """The ciphertext was not made with this SECRET_KEY."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str, purpose: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt(secret_key: str, plaintext: str, purpose: str = "scaisend-at-rest") -> str:
    return _fernet(secret_key, purpose).encrypt(plaintext.encode()).decode()


def decrypt(secret_key: str, ciphertext: str, purpose: str = "scaisend-at-rest") -> str:
    try:
        return _fernet(secret_key, purpose).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: wrong SECRET_KEY or corrupted value") from exc


def hmac_sha256_hex(key: str | bytes, message: str | bytes) -> str:
    key_bytes = key.encode() if isinstance(key, str) else key
    msg_bytes = message.encode() if isinstance(message, str) else message
    return hmac.new(key_bytes, msg_bytes, hashlib.sha256).hexdigest()


@lru_cache(maxsize=16)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` (HKDF-SHA256 of ``SECRET_KEY``), so no two uses share key material."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())
