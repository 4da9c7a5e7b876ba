"""D7 signatures, checked with the official sendgrid-python helper exactly as a SendGrid consumer runs it."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from sendgrid.helpers.eventwebhook import EventWebhook  # type: ignore[import-untyped]
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader  # type: ignore[import-untyped]

from scaisend.webhooks.event_webhook_signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    generate_key_pair,
    sign,
    signature_headers,
)

BODY = b'[{"email":"a@example.test","event":"delivered","sg_event_id":"evt_1","timestamp":1800000000}]\r\n'


def verify(public_key: str, body: bytes, signature: str, timestamp: str) -> bool:
    ew = EventWebhook()
    key = ew.convert_public_key_to_ecdsa(public_key)
    return bool(ew.verify_signature(body.decode(), signature, timestamp, key))


class TestSign:
    def test_the_official_helper_verifies_it(self) -> None:
        public_key, private_pem = generate_key_pair()
        assert verify(public_key, BODY, sign(private_pem, "1800000000", BODY), "1800000000")

    def test_a_tampered_body_or_timestamp_fails(self) -> None:
        public_key, private_pem = generate_key_pair()
        signature = sign(private_pem, "1800000000", BODY)
        assert not verify(public_key, BODY.replace(b"delivered", b"bounce"), signature, "1800000000")
        assert not verify(public_key, BODY, signature, "1800000001")

    def test_another_key_pair_fails(self) -> None:
        _, private_pem = generate_key_pair()
        other_public, _ = generate_key_pair()
        assert not verify(other_public, BODY, sign(private_pem, "1", BODY), "1")


class TestKeys:
    def test_public_key_is_base64_der_spki_on_p256(self) -> None:
        public_key, private_pem = generate_key_pair()
        assert "BEGIN" not in public_key
        loaded = serialization.load_der_public_key(base64.b64decode(public_key))
        assert loaded.curve.name == "secp256r1"  # type: ignore[union-attr]
        assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")


class TestSignatureHeaders:
    def test_header_names_are_sendgrid_s(self) -> None:
        _, private_pem = generate_key_pair()
        headers = signature_headers(private_pem, 1800000000, BODY)
        assert SIGNATURE_HEADER == EventWebhookHeader.SIGNATURE
        assert TIMESTAMP_HEADER == EventWebhookHeader.TIMESTAMP
        assert headers[TIMESTAMP_HEADER] == "1800000000"
        assert set(headers) == {SIGNATURE_HEADER, TIMESTAMP_HEADER}
