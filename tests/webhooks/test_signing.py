"""D6 signatures: ``X-ScaiSend-Signature: t=<unix>,v1=<hex>`` over ``"<t>.<raw body>"`` and the receiver helper."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from scaisend.webhooks.signing import new_signing_secret, signature_header, verify_signature

SECRET = "whsec_" + "ab" * 32
BODY = b'{"event_id":"evt_1","event_type":"delivered"}'
T = 1_800_000_000


class TestSignatureHeader:
    def test_is_hmac_sha256_of_timestamp_dot_body(self) -> None:
        expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
        assert signature_header(SECRET, T, BODY) == f"t={T},v1={expected}"

    def test_new_secrets_are_prefixed_and_distinct(self) -> None:
        first, second = new_signing_secret(), new_signing_secret()
        assert first.startswith("whsec_")
        assert len(first) == len("whsec_") + 64
        assert first != second


class TestVerifySignature:
    def test_accepts_a_fresh_signature(self) -> None:
        assert verify_signature(SECRET, signature_header(SECRET, T, BODY), BODY, T + 10)

    def test_accepts_datetime_now_and_str_body(self) -> None:
        now = datetime.fromtimestamp(T, UTC)
        assert verify_signature(SECRET, signature_header(SECRET, T, BODY), BODY.decode(), now)

    def test_refuses_a_tampered_body(self) -> None:
        header = signature_header(SECRET, T, BODY)
        assert not verify_signature(SECRET, header, BODY.replace(b"delivered", b"bounce"), T)

    def test_refuses_another_secret(self) -> None:
        assert not verify_signature(new_signing_secret(), signature_header(SECRET, T, BODY), BODY, T)

    def test_refuses_a_timestamp_outside_the_window(self) -> None:
        header = signature_header(SECRET, T, BODY)
        assert verify_signature(SECRET, header, BODY, T + 300)
        assert not verify_signature(SECRET, header, BODY, T + 301)
        assert not verify_signature(SECRET, header, BODY, T - 301)
        assert verify_signature(SECRET, header, BODY, T + 3600, tolerance=3600)

    def test_refuses_a_changed_timestamp(self) -> None:
        signature = signature_header(SECRET, T, BODY).split(",v1=")[1]
        assert not verify_signature(SECRET, f"t={T + 1},v1={signature}", BODY, T)

    def test_accepts_any_of_several_v1_values(self) -> None:
        good = signature_header(SECRET, T, BODY).split(",v1=")[1]
        assert verify_signature(SECRET, f"t={T},v1={'0' * 64},v1={good}", BODY, T)

    def test_refuses_malformed_headers(self) -> None:
        for header in ("", "garbage", f"t={T}", "v1=abc", f"t=soon,v1={'0' * 64}"):
            assert not verify_signature(SECRET, header, BODY, T), header
