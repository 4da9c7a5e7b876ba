"""D11 classification, table-driven: real provider replies → outcome, bounce_type, bounce_classification."""

from __future__ import annotations

import pytest

from scaisend.delivery.bounce_classifier import classify, enhanced_status, local_result, reply_result
from scaisend.delivery.result import BounceClassification as C
from scaisend.delivery.result import BounceType as T
from scaisend.delivery.result import Outcome as O

CASES: list[tuple[int, str, O, T | None, C | None]] = [
    (250, "2.0.0 OK: queued as 4Xy", O.DELIVERED, None, None),
    (251, "2.1.5 User not local; will forward", O.DELIVERED, None, None),
    # hard: recipient errors (5.1.x, 5.5.x) and unknown-user texts under other codes
    (550, "5.1.1 User unknown", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (
        550,
        "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the "
        "recipient's email address for typos",
        O.BOUNCED,
        T.HARD,
        C.INVALID_ADDRESS,
    ),
    (
        550,
        "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        O.BOUNCED,
        T.HARD,
        C.INVALID_ADDRESS,
    ),
    (553, "5.1.3 Bad recipient address syntax", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (550, "5.1.6 Recipient mailbox has moved", O.BOUNCED, T.HARD, C.MAILBOX_UNAVAILABLE),
    (550, "5.2.1 The email account that you tried to reach is disabled", O.BOUNCED, T.HARD, C.MAILBOX_UNAVAILABLE),
    (550, "5.4.1 Recipient address rejected: Access denied. AS(201806281)", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (550, "5.5.0 Requested action not taken: mailbox unavailable", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (501, "5.5.4 Invalid arguments", O.BOUNCED, T.HARD, C.TECHNICAL_FAILURE),
    (550, "Requested action not taken: mailbox unavailable", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (550, "No such user here", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (554, "Transaction failed", O.BOUNCED, T.HARD, C.UNCLASSIFIED),
    # soft: mailbox full and too large
    (552, "5.2.2 The email account that you tried to reach is over quota", O.BOUNCED, T.SOFT, C.MAILBOX_UNAVAILABLE),
    (552, "5.2.2 Mailbox full", O.BOUNCED, T.SOFT, C.MAILBOX_UNAVAILABLE),
    (552, "5.3.4 Message size exceeds fixed maximum message size", O.BOUNCED, T.SOFT, C.TECHNICAL_FAILURE),
    (552, "5.2.3 Message too large", O.BOUNCED, T.SOFT, C.TECHNICAL_FAILURE),
    (552, "Requested mail action aborted: exceeded storage allocation", O.BOUNCED, T.SOFT, C.MAILBOX_UNAVAILABLE),
    (552, "Message rejected for policy reasons", O.BOUNCED, T.SOFT, C.MAILBOX_UNAVAILABLE),
    # block: 5.7.x policy, reputation, content, authentication, rate
    (554, "5.7.1 Message rejected due to content", O.BLOCKED, T.BLOCK, C.CONTENT),
    (550, "5.7.1 Our system has detected that this message is likely unsolicited mail", O.BLOCKED, T.BLOCK, C.CONTENT),
    (
        554,
        "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        O.BLOCKED,
        T.BLOCK,
        C.REPUTATION,
    ),
    (
        550,
        "5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service "
        "provider since part of their network is on our block list (S3150)",
        O.BLOCKED,
        T.BLOCK,
        C.REPUTATION,
    ),
    (
        553,
        "5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list",
        O.BLOCKED,
        T.BLOCK,
        C.REPUTATION,
    ),
    (
        550,
        "5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders "
        "to authenticate with either SPF or DKIM",
        O.BLOCKED,
        T.BLOCK,
        C.TECHNICAL_FAILURE,
    ),
    (554, "5.7.1 <x@example.com>: Relay access denied", O.BLOCKED, T.BLOCK, C.TECHNICAL_FAILURE),
    (550, "5.7.1 Too many messages from your IP, rate limited", O.BLOCKED, T.BLOCK, C.FREQUENCY_OR_VOLUME),
    (550, "5.7.1 Recipient address rejected: user does not exist", O.BOUNCED, T.HARD, C.INVALID_ADDRESS),
    (550, "5.7.606 Access denied, banned sending IP [192.0.2.1]", O.BLOCKED, T.BLOCK, C.REPUTATION),
    (550, "5.7.0 Policy rejection", O.BLOCKED, T.BLOCK, C.REPUTATION),
    (554, "5.0.0 Service unavailable; client host blocked using bl.spamcop.net", O.BLOCKED, T.BLOCK, C.REPUTATION),
    (
        550,
        "SC-001 Mail rejected by Outlook.com for policy reasons. Reasons for rejection may be related to "
        "content with spam-like characteristics or IP/domain reputation problems",
        O.BLOCKED,
        T.BLOCK,
        C.REPUTATION,
    ),
    # deferred: every 4xx, with what it would bounce as on expiry
    (421, "4.7.0 Try again later, closing connection", O.DEFERRED, T.SOFT, C.UNCLASSIFIED),
    (450, "4.2.0 Greylisted, please try again in 90 seconds", O.DEFERRED, T.SOFT, C.UNCLASSIFIED),
    (452, "4.2.2 The email account that you tried to reach is over quota", O.DEFERRED, T.SOFT, C.MAILBOX_UNAVAILABLE),
    (
        421,
        "4.7.28 Our system has detected an unusual rate of unsolicited mail",
        O.DEFERRED,
        T.SOFT,
        C.FREQUENCY_OR_VOLUME,
    ),
    (
        421,
        "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints",
        O.DEFERRED,
        T.SOFT,
        C.FREQUENCY_OR_VOLUME,
    ),
    (451, "4.7.1 Client host blocked using zen.spamhaus.org", O.DEFERRED, T.SOFT, C.REPUTATION),
    (451, "4.4.1 No answer from host", O.DEFERRED, T.SOFT, C.TECHNICAL_FAILURE),
    (451, "4.3.0 Temporary system problem", O.DEFERRED, T.SOFT, C.TECHNICAL_FAILURE),
    (354, "End data with <CR><LF>.<CR><LF>", O.DEFERRED, T.SOFT, C.UNCLASSIFIED),
]


class TestClassify:
    @pytest.mark.parametrize(
        ("code", "text", "outcome", "bounce_type", "classification"), CASES, ids=[f"{c[0]} {c[1][:40]}" for c in CASES]
    )
    def test_table(self, code: int, text: str, outcome: O, bounce_type: T | None, classification: C | None) -> None:
        verdict = classify(code, text)
        assert (verdict.outcome, verdict.bounce_type, verdict.classification) == (outcome, bounce_type, classification)

    def test_reply_code_decides_temporary_even_with_a_permanent_status(self) -> None:
        assert classify(450, "5.1.1 User unknown").outcome is O.DEFERRED

    def test_5xx_never_deferred(self) -> None:
        assert all(classify(code, "x").outcome is not O.DEFERRED for code in range(500, 600))


class TestEnhancedStatus:
    @pytest.mark.parametrize(
        ("text", "status"),
        [
            ("5.1.1 User unknown", "5.1.1"),
            ("  4.7.28 rate", "4.7.28"),
            ("5.7.606 Access denied", "5.7.606"),
            ("User unknown", None),
            ("5.1 partial", None),
            ("3.1.1 not a class", None),
        ],
    )
    def test_parsed_from_the_start(self, text: str, status: str | None) -> None:
        assert enhanced_status(text) == status


class TestReplyResult:
    def test_multi_line_reply_is_one_line_with_its_code(self) -> None:
        result = reply_result(
            "a@example.com",
            550,
            "5.1.1 The email account that you tried to reach does not\n5.1.1 exist. Please try double-checking",
            mx_host="mx.example.com",
            tls=True,
        )
        assert result.response == (
            "550 5.1.1 The email account that you tried to reach does not 5.1.1 exist. Please try double-checking"
        )
        assert (result.enhanced_status, result.mx_host, result.tls) == ("5.1.1", "mx.example.com", True)

    def test_deferral_carries_the_named_wait(self) -> None:
        result = reply_result("a@example.com", 450, "4.2.0 Greylisted, try again in 5 minutes", mx_host=None, tls=False)
        assert result.retry_after == 300.0

    def test_bounce_has_no_wait(self) -> None:
        assert (
            reply_result("a@example.com", 550, "5.1.1 try again in 5 minutes", mx_host=None, tls=False).retry_after
            is None
        )


class TestLocalResult:
    def test_reply_shaped(self) -> None:
        result = local_result(
            "a@example.com", permanent=True, status="5.1.10", text="Null MX", classification=C.INVALID_ADDRESS
        )
        assert (result.outcome, result.code, result.response, result.bounce_type) == (
            O.BOUNCED,
            550,
            "550 5.1.10 Null MX",
            T.HARD,
        )
