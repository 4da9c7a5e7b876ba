"""Event fan-out (docs/webhooks.md, D6, D7): which webhook deliveries one recorded event creates, written in the recorder's
transaction.

- one ``pending`` delivery per enabled endpoint whose ``enabled_events`` holds the event type or ``"*"``, carrying
  the envelope (docs/webhooks.md, D6) (with the message's categories and custom_args);
- one ``queued`` row when the tenant's Event Webhook is enabled, has a URL and its boolean for the type (``blocked``
  follows ``bounce``) is on; the batching cron later gathers queued rows into one POST.

Disabled endpoints get nothing. The pending ids are noted on the session for enqueue-after-commit
(:mod:`scaisend.webhooks.dispatch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.db.config_cache import ConfigCache
from scaisend.events.envelope import envelope
from scaisend.ids import new_id
from scaisend.models import EmailEvent, EventWebhookSettings, WebhookDelivery
from scaisend.webhooks import repository
from scaisend.webhooks.dispatch import hand_off_deliveries
from scaisend.webhooks.repository import DeliveryStatus, DeliveryTarget
from scaisend.webhooks.sendgrid_format import toggle_for

ALL_EVENTS = "*"


def subscribes(enabled_events: list[str] | frozenset[str], event_type: str) -> bool:
    return ALL_EVENTS in enabled_events or event_type in enabled_events


@dataclass(frozen=True)
class Subscriptions:
    """A tenant's webhook configuration as fan-out needs it (a cached copy of the rows, D82)."""

    endpoints: tuple[tuple[str, frozenset[str]], ...]  # (endpoint id, enabled events) of each enabled endpoint
    event_webhook: dict[str, Any] | None  # the Event Webhook's toggles when it is enabled and has a URL

    def event_webhook_wants(self, event_type: str) -> bool:
        return bool(self.event_webhook is not None and self.event_webhook.get(toggle_for(event_type)))


_SUBSCRIPTIONS: ConfigCache[str, Subscriptions] = ConfigCache()  # by tenant id


async def subscriptions(session: AsyncSession, tenant_id: str) -> Subscriptions:
    """The tenant's enabled endpoints and Event Webhook toggles; cached per process (D82), so a tenant without
    webhooks costs no statement per event."""

    async def load() -> Subscriptions:
        endpoints = await repository.enabled_endpoints(session, tenant_id)
        row: EventWebhookSettings | None = await repository.event_webhook_settings(session, tenant_id)
        toggles = dict(row.events or {}) if row is not None and row.enabled and row.url else None
        return Subscriptions(tuple((e.id, frozenset(e.enabled_events or ())) for e in endpoints), toggles)

    return await _SUBSCRIPTIONS.get(tenant_id, load)


async def fan_out(session: AsyncSession, event: EmailEvent, categories: list[str] | None = None) -> list[str]:
    """Write the deliveries for ``event``; returns the ids of the endpoint deliveries to enqueue after commit."""
    subscribed = await subscriptions(session, event.tenant_id)
    endpoints = [endpoint_id for endpoint_id, events in subscribed.endpoints if subscribes(events, event.event_type)]
    to_event_webhook = subscribed.event_webhook_wants(event.event_type)
    if not endpoints and not to_event_webhook:
        return []
    message = await repository.message_context(session, event.tenant_id, event.message_id)
    if not categories and message is not None:
        categories = list(message.categories or [])
    payload = envelope(event, categories, dict(message.custom_args or {}) if message is not None else None)
    rows = [_row(event, payload, DeliveryTarget.ENDPOINT, DeliveryStatus.PENDING, endpoint_id=e) for e in endpoints]
    if to_event_webhook:
        queued = {"envelope": payload, "asm_group_id": message.asm_group_id if message is not None else None}
        rows.append(_row(event, queued, DeliveryTarget.EVENT_WEBHOOK, DeliveryStatus.QUEUED))
    session.add_all(rows)
    await session.flush()
    pending = [r.id for r in rows if r.status == DeliveryStatus.PENDING]
    hand_off_deliveries(session, pending)
    return pending


def _row(
    event: EmailEvent,
    payload: dict[str, Any],
    target: DeliveryTarget,
    status: DeliveryStatus,
    endpoint_id: str | None = None,
) -> WebhookDelivery:
    return WebhookDelivery(
        id=new_id("whd"),
        tenant_id=event.tenant_id,
        endpoint_id=endpoint_id,
        target=target.value,
        event_ids=[event.event_id],
        payload=payload,
        status=status.value,
        attempts=0,
    )
