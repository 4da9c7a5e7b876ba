"""Tracking tokens: signed, opaque, bound to message + recipient + kind (and destination for clicks)."""

from __future__ import annotations

import base64

import pytest

from scaisend.tracking.tokens import TokenKind, TrackingToken, sign_token, verify_token

SECRET = "test-secret-key-0123456789abcdef"


class TestSignToken:
    def test_round_trip(self) -> None:
        token = sign_token(SECRET, kind=TokenKind.OPEN, message_id="msg_01abc", recipient="Ada@example.test")

        assert verify_token(SECRET, token) == TrackingToken(TokenKind.OPEN, "msg_01abc", "Ada@example.test")

    def test_token_is_url_safe_and_the_same_for_the_same_input(self) -> None:
        first = sign_token(SECRET, kind="u", message_id="msg_1", recipient="a@example.test")
        second = sign_token(SECRET, kind="u", message_id="msg_1", recipient="a@example.test")

        assert first == second
        assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    def test_tokens_differ_per_recipient_and_kind(self) -> None:
        tokens = {
            sign_token(SECRET, kind=kind, message_id="msg_1", recipient=rcpt)
            for kind in ("o", "u")
            for rcpt in ("a@example.test", "b@example.test")
        }
        assert len(tokens) == 4

    def test_click_token_needs_a_url_and_others_refuse_one(self) -> None:
        with pytest.raises(ValueError, match="click token"):
            sign_token(SECRET, kind=TokenKind.CLICK, message_id="msg_1", recipient="a@example.test")
        with pytest.raises(ValueError, match="click token"):
            sign_token(SECRET, kind=TokenKind.OPEN, message_id="msg_1", recipient="a@example.test", url="https://x")


class TestVerifyToken:
    def test_click_token_is_bound_to_its_destination(self) -> None:
        token = sign_token(
            SECRET, kind="c", message_id="msg_1", recipient="a@example.test", url="https://example.com/a?b=1"
        )

        parsed = verify_token(SECRET, token, kind="c", url="https://example.com/a?b=1")
        assert parsed is not None
        assert parsed.recipient == "a@example.test"
        assert verify_token(SECRET, token, kind="c", url="https://evil.example/") is None

    def test_wrong_kind_is_refused(self) -> None:
        token = sign_token(SECRET, kind="o", message_id="msg_1", recipient="a@example.test")
        assert verify_token(SECRET, token, kind="u") is None

    def test_other_secret_is_refused(self) -> None:
        token = sign_token(SECRET, kind="o", message_id="msg_1", recipient="a@example.test")
        assert verify_token("another-secret-0123456789", token) is None

    def test_tampered_payload_is_refused(self) -> None:
        token = sign_token(SECRET, kind="o", message_id="msg_1", recipient="a@example.test")
        raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        raw[3] ^= 1
        forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        assert verify_token(SECRET, forged) is None

    @pytest.mark.parametrize("junk", ["", "x", "!!!!", "a" * 200, "AAAA", "msg_1"])
    def test_junk_is_refused_without_raising(self, junk: str) -> None:
        assert verify_token(SECRET, junk) is None
