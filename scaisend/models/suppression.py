"""Suppression lists (docs/suppressions.md, docs/compose.md) and ASM groups. One table holds every kind: ``bounce`` (several rows per
address allowed, ``bounce_type`` hard/soft/block), ``spam_report``, ``unsubscribe`` (global) and
``group_unsubscribe`` (with ``group_id``)."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column


class SuppressionKind(enum.StrEnum):
    BOUNCE = "bounce"
    SPAM_REPORT = "spam_report"
    UNSUBSCRIBE = "unsubscribe"
    GROUP_UNSUBSCRIBE = "group_unsubscribe"


class AsmGroup(TimestampMixin, Base):
    __tablename__ = "asm_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(100), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Suppression(TimestampMixin, Base):
    __tablename__ = "suppressions"
    __table_args__ = (
        Index("ix_suppressions_lookup", "tenant_id", "email", "kind"),
        Index("ix_suppressions_list", "tenant_id", "kind", "created_at"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    email: Mapped[str] = mapped_column(String(320))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("asm_groups.id", ondelete="CASCADE"))
    reason: Mapped[str | None] = mapped_column(Text)
    bounce_type: Mapped[str | None] = mapped_column(String(8))  # hard | soft | block
    status: Mapped[str | None] = mapped_column(String(16))  # enhanced status code, e.g. 5.1.1
    message_id: Mapped[str | None] = mapped_column(String(40))
