"""D12: the VERP envelope sender and recipients grouped by domain."""

from __future__ import annotations

import pytest

from scaisend.delivery.envelope import by_domain, message_id_from_verp, recipient_domain, verp_sender


class TestVerp:
    def test_sender_names_the_message(self) -> None:
        assert verp_sender("msg_01jz5m3v1k", "bounces.example.com") == "bounces+msg_01jz5m3v1k@bounces.example.com"

    @pytest.mark.parametrize(
        "address", ["bounces+msg_01jz5m3v1k@bounces.example.com", "<bounces+msg_01jz5m3v1k@Bounces.Example.com>"]
    )
    def test_round_trip(self, address: str) -> None:
        assert message_id_from_verp(address, "bounces.example.com") == "msg_01jz5m3v1k"

    @pytest.mark.parametrize(
        "address",
        [
            "postmaster@bounces.example.com",
            "bounces+msg_1@elsewhere.example",
            "bounces+@bounces.example.com",
            "bounces+msg 1@bounces.example.com",
        ],
    )
    def test_not_ours(self, address: str) -> None:
        assert message_id_from_verp(address, "bounces.example.com") is None


class TestByDomain:
    def test_groups_in_first_seen_order(self) -> None:
        groups = by_domain(["a@X.example", "b@y.example", "c@x.example", "nodomain"])
        assert groups == {"x.example": ["a@X.example", "c@x.example"], "y.example": ["b@y.example"], "": ["nodomain"]}

    def test_domain_is_lowercased_without_trailing_dot(self) -> None:
        assert recipient_domain("User@Mail.Example.COM.") == "mail.example.com"
