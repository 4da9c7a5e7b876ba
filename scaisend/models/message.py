"""Messages (docs/sending.md, docs/architecture.md, docs/compose.md, docs/delivery.md, D4, D48, D21): one row per personalization. The shared part of a send request (content,
attachments, settings) is stored once in ``send_requests``; the rendered MIME, without those attachment bytes (D70),
is stored in ``message_contents`` so a retry days later sends the same bytes while jobs carry only ids."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column
from scaisend.db.types import JSONType, UTCDateTime


class MessageStatus(enum.StrEnum):
    """The lifecycle: QUEUED → PROCESSING → RENDERED → SENDING → SENT → DELIVERED, with BOUNCED and FAILED as
    failure ends and CANCELLED and SANDBOX as other terminals. Stored and filtered lowercase."""

    QUEUED = "queued"
    PROCESSING = "processing"
    RENDERED = "rendered"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SANDBOX = "sandbox"


class SendRequest(Base):
    __tablename__ = "send_requests"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the request without `personalizations`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Message(TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
        Index("ix_messages_tenant_status", "tenant_id", "status"),
        Index("ix_messages_tenant_batch", "tenant_id", "batch_id"),
        Index("ix_messages_tenant_api_request", "tenant_id", "api_request_id"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("send_requests.id", ondelete="SET NULL"), index=True)
    # the X-Request-ID of the API request that accepted the message (D55); ``request_id`` above is its send_requests row
    api_request_id: Mapped[str | None] = mapped_column(String(128))
    api_key_id: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED.value)
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    from_email: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(1000))
    to_emails: Mapped[list[str]] = mapped_column(JSONType, default=list)
    personalization: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    template_id: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64))
    asm_group_id: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    custom_args: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_response: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MessageContent(Base):
    __tablename__ = "message_contents"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    # the message without the send request's attachment bytes, which `attachment_slots` puts back at delivery (D70)
    mime: Mapped[bytes] = mapped_column(LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"))
    attachment_slots: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
