"""The event envelope sent to endpoint webhooks (docs/webhooks.md, D6)."""

from __future__ import annotations

from typing import Any

from scaisend.models import EmailEvent


def envelope(
    event: EmailEvent, categories: list[str] | None = None, custom_args: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``{event_id, event_type, timestamp, message_id, recipient_email, tenant_id, metadata}``; the message's
    ``categories`` and ``custom_args`` are echoed on every event."""
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "timestamp": int(event.occurred_at.timestamp()),
        "message_id": event.message_id,
        "recipient_email": event.recipient_email,
        "tenant_id": event.tenant_id,
        "categories": list(categories or []),
        "custom_args": dict(custom_args or {}),
        "metadata": dict(event.data or {}),
    }
