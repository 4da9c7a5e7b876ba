"""Webhook management (docs/webhooks.md, D6, D7, D6-D8): endpoints of ``/v3/user/webhooks`` and the tenant's SendGrid-style Event
Webhook settings. Functions take a session and domain arguments and never commit.

- ``enabled_events`` is a list of the twelve event names (docs/webhooks.md, `scaisend/events/types.py`) or ``["*"]``; anything else is a 400;
- URLs (webhook and OAuth token URL) pass :mod:`.url_guard` when saved (and again at every delivery);
- the signing secret (``whsec_…``) is returned only by create and rotate, and stored encrypted; rotation replaces it
  at once, so the old secret stops validating with the next POST;
- re-enabling an endpoint (``enabled: true``) clears ``disabled_at`` and ``failure_count``; a manual disable leaves
  ``disabled_at`` empty (it marks only the automatic disable after 10 consecutive failures);
- deleting an endpoint deletes its delivery records.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError, NotFoundError
from scaisend.events.types import EVENT_TYPES
from scaisend.ids import new_id
from scaisend.models import EventWebhookSettings, WebhookEndpoint
from scaisend.resolver import Resolver
from scaisend.settings import Settings
from scaisend.webhooks import event_webhook_signing, repository
from scaisend.webhooks.fanout import ALL_EVENTS
from scaisend.webhooks.schemas import EventWebhookSettingsUpdate
from scaisend.webhooks.signing import new_signing_secret
from scaisend.webhooks.stored_secrets import Purpose, seal
from scaisend.webhooks.url_guard import check_destination

OAUTH_FIELDS = ("oauth_client_id", "oauth_client_secret", "oauth_token_url")


@dataclass(frozen=True)
class OAuthInput:
    """OAuth fields as sent; ``client_secret=None`` with the others set keeps the stored secret."""

    client_id: str | None
    client_secret: str | None
    token_url: str | None


def validate_events(events: list[str]) -> list[str]:
    """The event list to store, or a 400 naming what is wrong."""
    if not events:
        raise BadRequestError('enabled_events must list event types, or be ["*"]')
    if ALL_EVENTS in events:
        if set(events) != {ALL_EVENTS}:
            raise BadRequestError('enabled_events: "*" cannot be combined with event names')
        return [ALL_EVENTS]
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise BadRequestError(
            f"Unknown event type(s) in enabled_events: {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}"
        )
    return list(dict.fromkeys(events))


async def _checked_url(url: str, settings: Settings, resolver: Resolver) -> str:
    await check_destination(url, settings, resolver)
    return url.strip()


async def _oauth(
    settings: Settings, resolver: Resolver, given: OAuthInput, stored_secret: str | None
) -> tuple[str | None, str | None, str | None]:
    """``(client_id, encrypted secret, token_url)`` to store: all three, or none when all are empty."""
    if not (given.client_id or given.client_secret or given.token_url):
        return None, None, None
    secret = seal(settings, Purpose.OAUTH_CLIENT_SECRET, given.client_secret) if given.client_secret else stored_secret
    if not (given.client_id and secret and given.token_url):
        raise BadRequestError("oauth_client_id, oauth_client_secret and oauth_token_url must be given together")
    return given.client_id, secret, await _checked_url(given.token_url, settings, resolver)


def _set_oauth(row: WebhookEndpoint | EventWebhookSettings, values: tuple[str | None, str | None, str | None]) -> None:
    row.oauth_client_id, row.oauth_client_secret_encrypted, row.oauth_token_url = values


# --- endpoints --------------------------------------------------------------------------------------------------------
async def create_endpoint(
    session: AsyncSession,
    settings: Settings,
    resolver: Resolver,
    tenant_id: str,
    *,
    url: str,
    enabled_events: list[str],
    oauth: OAuthInput | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its signing secret (the only time the secret is returned besides rotation)."""
    events = validate_events(enabled_events)
    checked = await _checked_url(url, settings, resolver)
    secret = new_signing_secret()
    row = WebhookEndpoint(
        id=new_id("wh"),
        tenant_id=tenant_id,
        url=checked,
        enabled_events=events,
        signing_secret_encrypted=seal(settings, Purpose.SIGNING_SECRET, secret),
        enabled=True,
        failure_count=0,
    )
    _set_oauth(row, await _oauth(settings, resolver, oauth or OAuthInput(None, None, None), None))
    session.add(row)
    await session.flush()
    return row, secret


async def get_endpoint(session: AsyncSession, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    row = await repository.get_endpoint(session, tenant_id, endpoint_id)
    if row is None:
        raise NotFoundError(f"Webhook not found: {endpoint_id}")
    return row


async def list_endpoints(
    session: AsyncSession, tenant_id: str, *, page: int, page_size: int, is_active: bool | None
) -> tuple[list[WebhookEndpoint], int]:
    return await repository.list_endpoints(
        session, tenant_id, enabled=is_active, offset=(page - 1) * page_size, limit=page_size
    )


async def update_endpoint(
    session: AsyncSession,
    settings: Settings,
    resolver: Resolver,
    row: WebhookEndpoint,
    *,
    url: str | None = None,
    enabled_events: list[str] | None = None,
    enabled: bool | None = None,
    oauth: OAuthInput | None = None,
) -> WebhookEndpoint:
    if enabled_events is not None:
        row.enabled_events = validate_events(enabled_events)
    if url is not None:
        row.url = await _checked_url(url, settings, resolver)
    if oauth is not None:
        _set_oauth(row, await _oauth(settings, resolver, oauth, row.oauth_client_secret_encrypted))
    if enabled is True:
        row.enabled = True
        row.disabled_at = None
        row.failure_count = 0
    elif enabled is False:
        row.enabled = False
    await session.flush()
    return row


async def delete_endpoint(session: AsyncSession, row: WebhookEndpoint) -> None:
    await repository.delete_endpoint_deliveries(session, row.tenant_id, row.id)
    await session.delete(row)
    await session.flush()


async def rotate_secret(session: AsyncSession, settings: Settings, row: WebhookEndpoint) -> str:
    secret = new_signing_secret()
    row.signing_secret_encrypted = seal(settings, Purpose.SIGNING_SECRET, secret)
    await session.flush()
    return secret


# --- the Event Webhook (D7) -------------------------------------------------------------------------------------------
async def get_event_webhook(session: AsyncSession, tenant_id: str) -> EventWebhookSettings | None:
    return await repository.event_webhook_settings(session, tenant_id)


async def _event_webhook_row(session: AsyncSession, tenant_id: str) -> EventWebhookSettings:
    row = await repository.event_webhook_settings(session, tenant_id, lock=True)
    if row is None:
        row = EventWebhookSettings(tenant_id=tenant_id, enabled=False, events={}, signed=False)
        session.add(row)
    return row


async def update_event_webhook(
    session: AsyncSession, settings: Settings, resolver: Resolver, tenant_id: str, changes: EventWebhookSettingsUpdate
) -> EventWebhookSettings:
    """Apply a partial update; enabling needs a URL."""
    row = await _event_webhook_row(session, tenant_id)
    given = changes.model_fields_set
    if "url" in given:
        url = (changes.url or "").strip()
        row.url = await _checked_url(url, settings, resolver) if url else None
    if changes.enabled is not None:
        row.enabled = changes.enabled
    row.events = {**(row.events or {}), **changes.toggles()}
    if "friendly_name" in given:
        row.friendly_name = changes.friendly_name
    if given & set(OAUTH_FIELDS):
        oauth = OAuthInput(changes.oauth_client_id, changes.oauth_client_secret, changes.oauth_token_url)
        _set_oauth(row, await _oauth(settings, resolver, oauth, row.oauth_client_secret_encrypted))
    if row.enabled and not row.url:
        raise BadRequestError("url is required to enable the Event Webhook")
    await session.flush()
    return row


async def set_signed(session: AsyncSession, settings: Settings, tenant_id: str, enabled: bool) -> EventWebhookSettings:
    """Turn ECDSA signing on (a new P-256 key pair unless one is already active) or off (the key pair is deleted)."""
    row = await _event_webhook_row(session, tenant_id)
    if enabled and not (row.signed and row.public_key):
        public_key, private_pem = event_webhook_signing.generate_key_pair()
        row.public_key = public_key
        row.private_key_encrypted = seal(settings, Purpose.EVENT_WEBHOOK_KEY, private_pem)
        row.signed = True
    elif not enabled:
        row.signed = False
        row.public_key = None
        row.private_key_encrypted = None
    await session.flush()
    return row
