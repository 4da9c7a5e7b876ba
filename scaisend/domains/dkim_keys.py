"""DKIM key pairs (D14, docs/domains.md): RSA-2048 made with ``cryptography``, the private key stored as PKCS#8 PEM
encrypted with ``SECRET_KEY``, the public key kept as the base64 DER SubjectPublicKeyInfo that goes into ``p=``.

The encryption uses its own purpose label (:data:`ENCRYPTION_PURPOSE`), so a DKIM ciphertext cannot be decrypted
as any other kind of secret. Other modules get the plaintext key only through
:func:`scaisend.domains.service.signing_key`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scaisend import crypto

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
ENCRYPTION_PURPOSE = "scaisend-dkim-private-key"


class DkimKeyMissingError(LookupError):
    """A domain has no DKIM key under its active selector (the data broke an invariant)."""


@dataclass(frozen=True)
class DkimKeyPair:
    private_key_pem: bytes
    public_key_b64: str


def generate_key_pair(bits: int = KEY_BITS) -> DkimKeyPair:
    """A fresh RSA key pair: unencrypted PKCS#8 PEM private key and base64 DER public key."""
    private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)
    pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    return DkimKeyPair(private_key_pem=pem, public_key_b64=public_key_b64(pem))


def public_key_b64(private_key_pem: bytes) -> str:
    """The ``p=`` value for a private key: base64 of the DER SubjectPublicKeyInfo, no line breaks."""
    private_key = serialization.load_pem_private_key(private_key_pem, password=None)
    der = private_key.public_key().public_bytes(
        encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def encrypt_private_key(secret_keys: crypto.SecretKeys, private_key_pem: bytes) -> str:
    return crypto.encrypt(secret_keys, private_key_pem.decode("ascii"), purpose=ENCRYPTION_PURPOSE)


def decrypt_private_key(secret_keys: crypto.SecretKeys, ciphertext: str) -> bytes:
    """The PEM bytes; raises :class:`scaisend.crypto.DecryptionError` when none of the keys made it."""
    return crypto.decrypt(secret_keys, ciphertext, purpose=ENCRYPTION_PURPOSE).encode("ascii")
