"""Our events in SendGrid's Event Webhook format (D7; docs/webhooks.md).

:func:`to_sendgrid_event` turns one envelope (docs/webhooks.md, D6) into the object SendGrid would POST: ``email``, ``timestamp``,
``event``, ``sg_event_id`` (our ``event_id``), ``sg_message_id`` (our message id), ``smtp-id`` (the ``Message-ID``
we wrote, ``<message_id@SMTP_HOSTNAME>``), ``category`` (a string for one category, an array for several), the
message's ``custom_args`` as top-level keys (reserved keys win on a collision), and per event type ``reason``,
``status``, ``response``, ``attempt`` (a string), ``tls`` (0/1), ``type`` and ``bounce_classification``, ``url``,
``ip``, ``useragent`` and ``asm_group_id`` when the event knows them.

Event names: ``spam_report`` becomes ``spamreport``; ``blocked`` becomes ``bounce`` with ``type: "blocked"`` (a
``bounce`` has ``type: "bounce"``). Settings toggles keep SendGrid's names, so ``blocked`` follows the ``bounce``
toggle (:func:`toggle_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scaisend.events.types import DropReason, EventType

TOGGLES: Final[tuple[str, ...]] = (
    "processed",
    "deferred",
    "delivered",
    "bounce",
    "dropped",
    "open",
    "click",
    "spam_report",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
)
_EVENT_NAMES: Final[dict[str, str]] = {EventType.SPAM_REPORT: "spamreport", EventType.BLOCKED: "bounce"}
_DROP_REASONS: Final[dict[str, str]] = {
    DropReason.SUPPRESSED_BOUNCE: "Bounced Address",
    DropReason.SUPPRESSED_SPAM: "Spam Reporting Address",
    DropReason.SUPPRESSED_UNSUBSCRIBE: "Unsubscribed Address",
    DropReason.SUPPRESSED_GROUP: "Unsubscribed Address",
    DropReason.INVALID_EMAIL: "Invalid",
}
# SendGrid field ← the metadata keys our stages may use for it, first present wins.
_METADATA_FIELDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("reason", ("reason",)),
    ("status", ("status", "enhanced_status")),
    ("response", ("smtp_response", "response")),
    ("attempt", ("attempt",)),
    ("tls", ("tls",)),
    ("bounce_classification", ("bounce_classification", "classification")),
    ("url", ("url",)),
    ("ip", ("ip",)),
    ("useragent", ("user_agent", "useragent")),
    ("asm_group_id", ("asm_group_id", "group_id")),
)


def toggle_for(event_type: str) -> str:
    """The Event Webhook settings boolean that governs ``event_type``."""
    return "bounce" if event_type == EventType.BLOCKED else event_type


def sendgrid_event_name(event_type: str) -> str:
    return _EVENT_NAMES.get(event_type, event_type)


def _from_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, keys in _METADATA_FIELDS:
        value = next((metadata[k] for k in keys if metadata.get(k) is not None), None)
        if value is not None:
            fields[name] = value
    if "attempt" in fields:
        fields["attempt"] = str(fields["attempt"])
    if "tls" in fields:
        fields["tls"] = 1 if fields["tls"] else 0
    return fields


def to_sendgrid_event(
    envelope: Mapping[str, Any], *, smtp_hostname: str, asm_group_id: int | None = None
) -> dict[str, Any]:
    """One SendGrid-format event for the ``envelope`` (docs/webhooks.md, D6) (with its ``categories`` and ``custom_args``)."""
    event_type = str(envelope["event_type"])
    fields = _from_metadata(envelope.get("metadata") or {})
    if event_type in (EventType.BOUNCE, EventType.BLOCKED):
        fields["type"] = "blocked" if event_type == EventType.BLOCKED else "bounce"
        if "reason" not in fields and "response" in fields:
            fields["reason"] = fields["response"]
    elif event_type == EventType.DROPPED and fields.get("reason") in _DROP_REASONS:
        fields["reason"] = _DROP_REASONS[fields["reason"]]
    if asm_group_id is not None:
        fields.setdefault("asm_group_id", asm_group_id)
    categories = list(envelope.get("categories") or [])
    if categories:
        fields["category"] = categories[0] if len(categories) == 1 else categories
    message_id = str(envelope["message_id"])
    reserved = {
        "email": envelope["recipient_email"],
        "timestamp": int(envelope["timestamp"]),
        "event": sendgrid_event_name(event_type),
        "sg_event_id": envelope["event_id"],
        "sg_message_id": message_id,
        "smtp-id": f"<{message_id}@{smtp_hostname}>",
        **fields,
    }
    return {**dict(envelope.get("custom_args") or {}), **reserved}
