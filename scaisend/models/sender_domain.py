"""Sender domains and their DKIM keys (docs/domains.md, D14). Private keys are encrypted with SECRET_KEY."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column
from scaisend.db.types import UTCDateTime


class SenderDomain(TimestampMixin, Base):
    __tablename__ = "sender_domains"
    __table_args__ = (UniqueConstraint("tenant_id", "domain"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253))
    dmarc_policy: Mapped[str] = mapped_column(String(16), default="none")
    dmarc_rua_email: Mapped[str | None] = mapped_column(String(320))
    active_selector: Mapped[str] = mapped_column(String(63), default="scaisend")
    dkim_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    spf_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    dmarc_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DkimKey(TimestampMixin, Base):
    __tablename__ = "dkim_keys"
    __table_args__ = (UniqueConstraint("domain_id", "selector"),)

    id: Mapped[str] = id_column()
    domain_id: Mapped[str] = mapped_column(ForeignKey("sender_domains.id", ondelete="CASCADE"))
    selector: Mapped[str] = mapped_column(String(63))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(Text)  # base64 DER SubjectPublicKeyInfo, as published in p=
