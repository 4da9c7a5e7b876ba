"""SendGrid Event Webhook signatures (D7; docs/webhooks.md), verifiable unchanged by
``sendgrid.helpers.eventwebhook.EventWebhook``.

ECDSA P-256 with SHA-256 over the bytes of the timestamp string followed by the raw body. The signature is the base64
of its ASN.1 DER encoding (header ``X-Twilio-Email-Event-Webhook-Signature``), the timestamp goes in
``X-Twilio-Email-Event-Webhook-Timestamp`` and the public key is published as base64 DER SubjectPublicKeyInfo with no
PEM armour. The private key is kept PEM (PKCS#8) and encrypted with ``SECRET_KEY`` by the caller.
"""

from __future__ import annotations

import base64
from typing import Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER: Final = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER: Final = "X-Twilio-Email-Event-Webhook-Timestamp"


def generate_key_pair() -> tuple[str, str]:
    """A new P-256 key pair as ``(public key base64 DER SPKI, private key PEM PKCS#8)``."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return base64.b64encode(public_der).decode(), private_pem.decode()


def sign(private_key_pem: str, timestamp: str, body: bytes) -> str:
    """The base64 DER ECDSA-SHA256 signature of ``timestamp + body`` (the exact bytes POSTed)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the Event Webhook signing key is not an EC key")
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def signature_headers(private_key_pem: str, timestamp: int, body: bytes) -> dict[str, str]:
    stamp = str(timestamp)
    return {SIGNATURE_HEADER: sign(private_key_pem, stamp, body), TIMESTAMP_HEADER: stamp}
