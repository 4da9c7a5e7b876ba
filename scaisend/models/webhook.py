"""Webhook endpoints (docs/webhooks.md, D6, D7), the SendGrid-style Event Webhook settings () and the persisted
deliveries sent from ``webhook:deliver`` (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column
from scaisend.db.types import JSONType, UTCDateTime


class WebhookEndpoint(TimestampMixin, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    enabled_events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    signing_secret_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    oauth_client_id: Mapped[str | None] = mapped_column(String(255))
    oauth_client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    oauth_token_url: Mapped[str | None] = mapped_column(String(2048))


class EventWebhookSettings(TimestampMixin, Base):
    __tablename__ = "event_webhook_settings"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str | None] = mapped_column(String(2048))
    events: Mapped[dict[str, bool]] = mapped_column(JSONType, default=dict)  # SendGrid boolean per event type
    friendly_name: Mapped[str | None] = mapped_column(String(255))  # migration 0003
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    public_key: Mapped[str | None] = mapped_column(Text)
    private_key_encrypted: Mapped[str | None] = mapped_column(Text)
    oauth_client_id: Mapped[str | None] = mapped_column(String(255))
    oauth_client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    oauth_token_url: Mapped[str | None] = mapped_column(String(2048))


class WebhookDelivery(TimestampMixin, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status", "status", "updated_at"),
        Index("ix_webhook_deliveries_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(16), default="endpoint")  # endpoint | event_webhook
    event_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    payload: Mapped[Any] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
