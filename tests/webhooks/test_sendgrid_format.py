"""SendGrid Event Webhook format (D7; docs/webhooks.md): names, fields, categories and custom_args."""

from __future__ import annotations

from typing import Any

from scaisend.events.types import EVENT_TYPES, DropReason
from scaisend.webhooks.sendgrid_format import TOGGLES, sendgrid_event_name, to_sendgrid_event, toggle_for


def env(event_type: str, metadata: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": "evt_1",
        "event_type": event_type,
        "timestamp": 1800000000,
        "message_id": "msg_1",
        "recipient_email": "a@example.test",
        "tenant_id": "tnt_1",
        "categories": [],
        "custom_args": {},
        "metadata": metadata or {},
    }
    return {**base, **extra}


def sg(event_type: str, metadata: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return to_sendgrid_event(env(event_type, metadata, **extra), smtp_hostname="mta.example.test")


class TestNames:
    def test_spam_report_and_blocked_take_sendgrid_names(self) -> None:
        assert sendgrid_event_name("spam_report") == "spamreport"
        assert sendgrid_event_name("blocked") == "bounce"
        assert sendgrid_event_name("group_unsubscribe") == "group_unsubscribe"

    def test_every_event_type_has_a_toggle(self) -> None:
        assert {toggle_for(t) for t in EVENT_TYPES} == set(TOGGLES)
        assert toggle_for("blocked") == "bounce"


class TestCommonFields:
    def test_identity_fields(self) -> None:
        event = sg("processed")
        assert event == {
            "email": "a@example.test",
            "timestamp": 1800000000,
            "event": "processed",
            "sg_event_id": "evt_1",
            "sg_message_id": "msg_1",
            "smtp-id": "<msg_1@mta.example.test>",
        }

    def test_one_category_is_a_string_several_an_array(self) -> None:
        assert sg("open", categories=["welcome"])["category"] == "welcome"
        assert sg("open", categories=["a", "b"])["category"] == ["a", "b"]

    def test_custom_args_are_top_level_and_reserved_keys_win(self) -> None:
        event = sg("delivered", custom_args={"order": "42", "event": "mine", "email": "x@y"})
        assert event["order"] == "42"
        assert event["event"] == "delivered"
        assert event["email"] == "a@example.test"

    def test_asm_group_id_from_the_message(self) -> None:
        assert to_sendgrid_event(env("open"), smtp_hostname="h", asm_group_id=7)["asm_group_id"] == 7


class TestPerEvent:
    def test_bounce_has_type_status_reason_and_classification(self) -> None:
        event = sg(
            "bounce",
            {
                "smtp_response": "550 5.1.1 User unknown",
                "enhanced_status": "5.1.1",
                "bounce_classification": "Invalid Address",
                "tls": True,
            },
        )
        assert event["type"] == "bounce"
        assert event["status"] == "5.1.1"
        assert event["reason"] == "550 5.1.1 User unknown"
        assert event["bounce_classification"] == "Invalid Address"
        assert event["tls"] == 1

    def test_blocked_is_a_bounce_of_type_blocked(self) -> None:
        event = sg("blocked", {"reason": "550 5.7.1 blocked", "status": "5.7.1", "classification": "Reputation"})
        assert (event["event"], event["type"]) == ("bounce", "blocked")
        assert event["bounce_classification"] == "Reputation"

    def test_deferred_attempt_is_a_string(self) -> None:
        event = sg("deferred", {"attempt": 3, "response": "421 try later"})
        assert event["attempt"] == "3"
        assert event["response"] == "421 try later"

    def test_click_fields(self) -> None:
        event = sg("click", {"url": "https://example.com/", "ip": "203.0.113.9", "user_agent": "Mozilla/5.0"})
        assert (event["url"], event["ip"], event["useragent"]) == ("https://example.com/", "203.0.113.9", "Mozilla/5.0")

    def test_dropped_reason_in_sendgrid_words(self) -> None:
        assert sg("dropped", {"reason": DropReason.SUPPRESSED_BOUNCE})["reason"] == "Bounced Address"
        assert sg("dropped", {"reason": DropReason.INVALID_EMAIL})["reason"] == "Invalid"

    def test_group_unsubscribe_carries_the_group(self) -> None:
        assert sg("group_unsubscribe", {"group_id": 12})["asm_group_id"] == 12

    def test_spam_report(self) -> None:
        assert sg("spam_report")["event"] == "spamreport"
