"""Batches (docs/sending.md): an id obtained from ``POST /v3/mail/batch`` that groups sends for status and cancellation."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column


class Batch(TimestampMixin, Base):
    __tablename__ = "batches"

    id: Mapped[str] = id_column(64)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | cancelled
