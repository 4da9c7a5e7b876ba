"""Email events (docs/webhooks.md, `scaisend/events/types.py`). Range-partitioned by month on MySQL (D18), so the table has no foreign keys and its
primary key includes the partition column ``occurred_at``: the pair (event_id, occurred_at) is the dedupe key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base
from scaisend.db.types import JSONType, UTCDateTime


class EmailEvent(Base):
    __tablename__ = "email_events"
    __table_args__ = (
        Index("ix_email_events_message", "message_id", "occurred_at"),
        Index("ix_email_events_tenant_occurred", "tenant_id", "occurred_at"),
    )

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(32))
    recipient_email: Mapped[str] = mapped_column(String(320))
    data: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
