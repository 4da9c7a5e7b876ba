"""DSN and ARF parsing over the fixture corpus (tests/fixtures/dsn, tests/fixtures/arf)."""

from __future__ import annotations

import email
from collections.abc import Callable

import pytest

from scaisend.inbound.arf import parse_arf
from scaisend.inbound.dsn import parse_dsn
from scaisend.inbound.matcher import candidate_ids, verp_message_id
from scaisend.settings import Settings
from tests.factories.sent import SentMessage
from tests.inbound.conftest import signed_verp

MSG = SentMessage("msg_01jabcdefghjkmnpqrstvwxyz0", "tnt_x", "someone@recipient.example")

DSN_CASES = [
    ("dsn/postfix_user_unknown.eml", "failed", "5.1.1", "550"),
    ("dsn/exim_multipart.eml", "failed", "5.0.0", "550"),
    ("dsn/gmail_style.eml", "failed", "5.1.1", "550"),
    ("dsn/microsoft_style.eml", "failed", "5.1.10", "550"),
    ("dsn/postfix_delayed.eml", "delayed", "4.4.1", ""),
    ("dsn/global_delivery_status.eml", "failed", "5.1.1", "550"),
    ("dsn/mailbox_full.eml", "failed", "5.2.2", "552"),
]


@pytest.mark.parametrize(("name", "action", "status", "code"), DSN_CASES, ids=[c[0] for c in DSN_CASES])
def test_dsn_recipient_action_status_and_original(
    fixture_bytes: Callable[[str, SentMessage | None], bytes], name: str, action: str, status: str, code: str
) -> None:
    report = parse_dsn(email.message_from_bytes(fixture_bytes(name, MSG)))
    assert report is not None
    (recipient,) = report.recipients
    assert (recipient.recipient, recipient.action, recipient.status) == (MSG.recipient, action, status)
    if code:
        assert recipient.diagnostic.startswith(code)
    assert MSG.id in candidate_ids([], report.original, "unused.example")


@pytest.mark.parametrize("name", ["arf/yahoo_style.eml", "arf/microsoft_style.eml", "arf/redacted_recipient.eml"])
def test_arf_type_and_original(
    fixture_bytes: Callable[[str, SentMessage | None], bytes], database: Settings, name: str
) -> None:
    report = parse_arf(email.message_from_bytes(fixture_bytes(name, MSG)))
    assert report is not None
    assert report.feedback_type == "abuse"
    assert MSG.id in candidate_ids([], report.original, "unused.example")
    # the signed return path the provider received survives redaction: it names the recipient only to us (D41)
    assert signed_verp(database, MSG) in report.return_paths


def test_a_dsn_is_not_an_arf_and_vice_versa(fixture_bytes: Callable[[str, SentMessage | None], bytes]) -> None:
    assert parse_arf(email.message_from_bytes(fixture_bytes("dsn/postfix_user_unknown.eml", MSG))) is None
    assert parse_dsn(email.message_from_bytes(fixture_bytes("arf/yahoo_style.eml", MSG))) is None
    assert parse_dsn(email.message_from_bytes(fixture_bytes("dsn/unparseable.eml", MSG))) is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("bounces+msg_01jabcdefghjkmnpqrstvwxyz0@bounces.example", "msg_01jabcdefghjkmnpqrstvwxyz0"),
        ("<BOUNCES+MSG_01JABCDEFGHJKMNPQRSTVWXYZ0@Bounces.Example>", "msg_01jabcdefghjkmnpqrstvwxyz0"),
        ("bounces+msg_01jabcdefghjkmnpqrstvwxyz0@elsewhere.example", None),
        ("postmaster@bounces.example", None),
        ("bounces+not-an-id@bounces.example", None),
    ],
)
def test_verp_address(address: str, expected: str | None) -> None:
    assert verp_message_id(address, "bounces.example") == expected
