"""Encryption at rest with ``SECRET_KEY`` (DKIM private keys, webhook secrets; D14) and HMAC token signing.

A Fernet key is derived from ``SECRET_KEY`` with HKDF-SHA256, so any string of 16+ characters is a usable secret.
Rotation (issue 9 finding 4): the functions take the keys as :data:`SecretKeys`, ``settings.secret_keys`` (or a
single key); the first key encrypts, every key decrypts, so values written under an earlier key stay readable while
it is listed in ``SECRET_KEY_PREVIOUS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(ValueError):
    """The ciphertext was not made with this SECRET_KEY."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str, purpose: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


# One key, or the current key followed by earlier ones (``Settings.secret_keys``).
SecretKeys = str | Sequence[str]


def key_list(keys: SecretKeys) -> tuple[str, ...]:
    """``keys`` as a non-empty tuple, the signing/encrypting key first."""
    result = (keys,) if isinstance(keys, str) else tuple(keys)
    if not result:
        raise ValueError("at least one secret key is needed")
    return result


def encrypt(keys: SecretKeys, plaintext: str, purpose: str = "scaisend-at-rest") -> str:
    return _fernet(key_list(keys)[0], purpose).encrypt(plaintext.encode()).decode()


def decrypt(keys: SecretKeys, ciphertext: str, purpose: str = "scaisend-at-rest") -> str:
    """The plaintext under whichever of ``keys`` made ``ciphertext``."""
    fernets = MultiFernet([_fernet(key, purpose) for key in key_list(keys)])
    try:
        return fernets.decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("cannot decrypt: wrong SECRET_KEY or corrupted value") from exc


def reencrypt(keys: SecretKeys, ciphertext: str, purpose: str = "scaisend-at-rest") -> str:
    """``ciphertext`` encrypted again under the first key (rotation), whichever of ``keys`` made it."""
    return encrypt(keys, decrypt(keys, ciphertext, purpose), purpose)


def hmac_sha256_hex(key: str | bytes, message: str | bytes) -> str:
    key_bytes = key.encode() if isinstance(key, str) else key
    msg_bytes = message.encode() if isinstance(message, str) else message
    return hmac.new(key_bytes, msg_bytes, hashlib.sha256).hexdigest()


@lru_cache(maxsize=16)
def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` (HKDF-SHA256 of ``SECRET_KEY``), so no two uses share key material."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())
