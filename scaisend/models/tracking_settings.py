"""Tenant tracking defaults (docs/compose.md), deep-merged under each request's ``tracking_settings``.
Stored as one JSON document; defaults live in code (:data:`DEFAULT_TRACKING`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin
from scaisend.db.types import JSONType

DEFAULT_TRACKING: dict[str, Any] = {
    "open_tracking_enabled": True,
    "open_tracking_substitution_tag": None,
    "click_tracking_enabled": True,
    "click_tracking_enable_text": False,
    "subscription_tracking_enabled": False,
    "subscription_tracking_text": None,
    "subscription_tracking_html": None,
    "subscription_tracking_substitution_tag": None,
    "subscription_tracking_landing_html": None,
    "ganalytics_enabled": False,
    "utm_source": None,
    "utm_medium": None,
    "utm_term": None,
    "utm_content": None,
    "utm_campaign": None,
    "image_embed_mode": "proxy",
}


class TrackingSettings(TimestampMixin, Base):
    __tablename__ = "tracking_settings"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
