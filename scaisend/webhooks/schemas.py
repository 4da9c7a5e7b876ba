"""Request and response shapes of ``/v3/user/webhooks`` (docs/webhooks.md, D6, D7, ScaiSend-native) and of SendGrid's Event Webhook
settings (D7, ``tsg_webhooks_v3.json``). Names of events and URLs are validated by the service (400 ``{"detail"}``);
these models check types only. Secrets are write-only except ``signing_secret``, shown on create and rotate."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from scaisend.models import EventWebhookSettings, WebhookEndpoint
from scaisend.webhooks.sendgrid_format import TOGGLES


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    enabled_events: list[str]
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_token_url: str | None = None


class WebhookUpdate(BaseModel):
    """Partial update. The three ``oauth_*`` fields change together; all three ``null`` switch OAuth off, and a
    change that leaves ``oauth_client_secret`` out keeps the stored secret."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    enabled_events: list[str] | None = None
    enabled: bool | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_token_url: str | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    enabled_events: list[str]
    enabled: bool
    created_at: datetime
    last_success_at: datetime | None
    last_failure_at: datetime | None
    failure_count: int
    disabled_at: datetime | None
    oauth_client_id: str | None
    oauth_token_url: str | None

    @classmethod
    def build(cls, row: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=row.id,
            url=row.url,
            enabled_events=list(row.enabled_events or []),
            enabled=row.enabled,
            created_at=row.created_at,
            last_success_at=row.last_success_at,
            last_failure_at=row.last_failure_at,
            failure_count=row.failure_count,
            disabled_at=row.disabled_at,
            oauth_client_id=row.oauth_client_id,
            oauth_token_url=row.oauth_token_url,
        )


class WebhookWithSecret(WebhookOut):
    signing_secret: str


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]
    total: int


class EventWebhookSettingsUpdate(BaseModel):
    """SendGrid's ``EventWebhookRequest``; every field optional (a partial update). Unknown fields are ignored so
    SendGrid clients sending newer toggles (``account_status_change``) keep working."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool | None = None
    url: str | None = None
    processed: bool | None = None
    deferred: bool | None = None
    delivered: bool | None = None
    bounce: bool | None = None
    dropped: bool | None = None
    open: bool | None = None
    click: bool | None = None
    spam_report: bool | None = None
    unsubscribe: bool | None = None
    group_unsubscribe: bool | None = None
    group_resubscribe: bool | None = None
    friendly_name: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_token_url: str | None = None

    def toggles(self) -> dict[str, bool]:
        """The event booleans this request sets."""
        values = self.model_dump(include=set(TOGGLES), exclude_unset=True)
        return {name: bool(value) for name, value in values.items() if value is not None}


class EventWebhookSettingsOut(BaseModel):
    enabled: bool
    url: str
    processed: bool
    deferred: bool
    delivered: bool
    bounce: bool
    dropped: bool
    open: bool
    click: bool
    spam_report: bool
    unsubscribe: bool
    group_unsubscribe: bool
    group_resubscribe: bool
    friendly_name: str | None
    oauth_client_id: str | None
    oauth_token_url: str | None

    @classmethod
    def build(cls, row: EventWebhookSettings | None) -> EventWebhookSettingsOut:
        if row is None:
            return cls(
                enabled=False,
                url="",
                friendly_name=None,
                oauth_client_id=None,
                oauth_token_url=None,
                **dict.fromkeys(TOGGLES, False),
            )
        events = row.events or {}
        return cls(
            enabled=row.enabled,
            url=row.url or "",
            friendly_name=row.friendly_name,
            oauth_client_id=row.oauth_client_id,
            oauth_token_url=row.oauth_token_url,
            **{name: bool(events.get(name)) for name in TOGGLES},
        )


class SignedUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool


class SignedOut(BaseModel):
    """``public_key`` is the base64 DER SubjectPublicKeyInfo, ``""`` while signing is off."""

    enabled: bool
    public_key: str

    @classmethod
    def build(cls, row: EventWebhookSettings | None) -> SignedOut:
        signed = bool(row is not None and row.signed and row.public_key)
        return cls(enabled=signed, public_key=(row.public_key or "") if row is not None and signed else "")
