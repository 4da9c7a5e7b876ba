"""D12, D41: the signed VERP envelope sender and recipients grouped by domain."""

from __future__ import annotations

import pytest

from scaisend.delivery.envelope import (
    ReturnPath,
    ReturnPathSigner,
    by_domain,
    parse_return_path,
    recipient_domain,
)
from tests.harness.settings import make_settings

MID = "msg_01jz5m3v1kabcdefghjkmnpqrs"


class TestSignedReturnPath:
    signer = ReturnPathSigner(["a-secret-key-of-enough-length"])

    def test_sender_names_the_message_and_carries_a_mac(self) -> None:
        address = self.signer.sender(MID, "user@example.com", "bounces.example.com")
        local, _, domain = address.partition("@")
        assert domain == "bounces.example.com"
        assert local.startswith(f"bounces+{MID}.")
        assert len(local) <= 64  # RFC 5321
        assert parse_return_path(address, "bounces.example.com") == ReturnPath(MID, local.rpartition(".")[2])

    def test_each_recipient_has_its_own(self) -> None:
        assert self.signer.sender(MID, "a@example.com", "b.example") != self.signer.sender(
            MID, "b@example.com", "b.example"
        )

    def test_verifies_for_its_recipient_only(self) -> None:
        path = parse_return_path(self.signer.sender(MID, "User@Example.com", "b.example"))
        assert path is not None
        assert self.signer.signed_recipient(path, ["ceo@customer.example", "user@example.com"]) == "user@example.com"
        assert self.signer.signed_recipient(path, ["ceo@customer.example"]) is None

    def test_case_changes_in_transit_still_verify(self) -> None:
        path = parse_return_path(self.signer.sender(MID, "user@example.com", "b.example").upper(), "b.example")
        assert path is not None
        assert self.signer.signed_recipient(ReturnPath(path.message_id.lower(), path.mac), ["user@example.com"])

    def test_another_key_or_message_does_not_verify(self) -> None:
        other = ReturnPathSigner(["another-secret-key-of-length"])
        path = parse_return_path(other.sender(MID, "user@example.com", "b.example"))
        assert path is not None
        assert self.signer.signed_recipient(path, ["user@example.com"]) is None
        moved = ReturnPath("msg_01jz5m3v1kabcdefghjkmnpqrt", path.mac)
        assert other.signed_recipient(moved, ["user@example.com"]) is None

    def test_every_key_verifies_and_the_first_signs(self) -> None:
        rotated = ReturnPathSigner(["the-new-secret-key-123456", "a-secret-key-of-enough-length"])
        old = parse_return_path(self.signer.sender(MID, "user@example.com", "b.example"))
        assert old is not None
        assert rotated.signed_recipient(old, ["user@example.com"]) == "user@example.com"
        assert rotated.sender(MID, "user@example.com", "b.example") != self.signer.sender(
            MID, "user@example.com", "b.example"
        )

    def test_unsigned_form_parses_but_proves_nothing(self) -> None:
        path = parse_return_path(f"<bounces+{MID}@Bounces.Example.com>", "bounces.example.com")
        assert path == ReturnPath(MID, None)
        assert self.signer.signed_recipient(path, ["user@example.com"]) is None
        assert parse_return_path(f"bounces+{MID}@bounces.example.com", "bounces.example.com") == path

    @pytest.mark.parametrize(
        "address",
        [
            "postmaster@bounces.example.com",
            "bounces+msg_1@elsewhere.example",
            "bounces+@bounces.example.com",
            "bounces+msg 1@bounces.example.com",
            "bounces+msg_1.zzzzzzzzzzzzzzzz@bounces.example.com",
            "bounces+msg_1.0123@bounces.example.com",
        ],
    )
    def test_not_ours(self, address: str) -> None:
        assert parse_return_path(address, "bounces.example.com") is None


class TestByDomain:
    def test_groups_in_first_seen_order(self) -> None:
        groups = by_domain(["a@X.example", "b@y.example", "c@x.example", "nodomain"])
        assert groups == {"x.example": ["a@X.example", "c@x.example"], "y.example": ["b@y.example"], "": ["nodomain"]}

    def test_domain_is_lowercased_without_trailing_dot(self) -> None:
        assert recipient_domain("User@Mail.Example.COM.") == "mail.example.com"


def test_from_settings_signs_with_secret_key_and_verifies_previous_keys() -> None:
    old_key, new_key = "the-old-secret-key-0123456789abcdef", "the-new-secret-key-0123456789abcdef"
    old = ReturnPathSigner.from_settings(make_settings(SECRET_KEY=old_key))
    rotated = ReturnPathSigner.from_settings(make_settings(SECRET_KEY=new_key, SECRET_KEY_PREVIOUS=old_key))
    path = parse_return_path(old.sender(MID, "user@example.com", "b.example"))
    assert path is not None
    assert rotated.signed_recipient(path, ["user@example.com"]) == "user@example.com"
    assert rotated.sender(MID, "user@example.com", "b.example") == ReturnPathSigner([new_key]).sender(
        MID, "user@example.com", "b.example"
    )
