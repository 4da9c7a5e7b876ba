"""DKIM key pairs (D14): RSA-2048, ``p=`` is the public half of the PEM, and the PEM survives encryption with
SECRET_KEY (and nothing else)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from scaisend import crypto
from scaisend.domains.dkim_keys import (
    DkimKeyPair,
    decrypt_private_key,
    encrypt_private_key,
    generate_key_pair,
    public_key_b64,
)

SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="module")
def pair() -> DkimKeyPair:
    return generate_key_pair()


class TestGenerateKeyPair:
    def test_rsa_2048_pem(self, pair: DkimKeyPair) -> None:
        assert pair.private_key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
        key = serialization.load_pem_private_key(pair.private_key_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        assert key.key_size == 2048

    def test_p_value_is_the_public_half(self, pair: DkimKeyPair) -> None:
        public = serialization.load_der_public_key(base64.b64decode(pair.public_key_b64, validate=True))
        assert isinstance(public, rsa.RSAPublicKey)
        private = serialization.load_pem_private_key(pair.private_key_pem, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        signature = private.sign(b"hello", padding.PKCS1v15(), hashes.SHA256())
        public.verify(signature, b"hello", padding.PKCS1v15(), hashes.SHA256())  # raises when they differ
        assert "\n" not in pair.public_key_b64
        assert public_key_b64(pair.private_key_pem) == pair.public_key_b64

    def test_each_call_makes_a_new_key(self, pair: DkimKeyPair) -> None:
        assert generate_key_pair().public_key_b64 != pair.public_key_b64


class TestEncryption:
    def test_round_trip(self, pair: DkimKeyPair) -> None:
        ciphertext = encrypt_private_key(SECRET, pair.private_key_pem)
        assert b"PRIVATE KEY" not in ciphertext.encode()
        assert decrypt_private_key(SECRET, ciphertext) == pair.private_key_pem

    def test_other_secret_key_cannot_decrypt(self, pair: DkimKeyPair) -> None:
        ciphertext = encrypt_private_key(SECRET, pair.private_key_pem)
        with pytest.raises(crypto.DecryptionError):
            decrypt_private_key("another-secret-key-0123456789", ciphertext)

    def test_ciphertext_is_bound_to_the_dkim_purpose(self, pair: DkimKeyPair) -> None:
        ciphertext = encrypt_private_key(SECRET, pair.private_key_pem)
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(SECRET, ciphertext)  # the default purpose (webhook secrets etc.) cannot read it
