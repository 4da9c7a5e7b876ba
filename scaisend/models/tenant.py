"""Partners and tenants (docs/architecture.md, D1): mirrored identity, bootstrapped by the CLI when no ScaiKey is reachable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column
from scaisend.db.types import JSONType


class Partner(TimestampMixin, Base):
    __tablename__ = "partners"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    scaikey_id: Mapped[str | None] = mapped_column(String(100), unique=True)


class Tenant(TimestampMixin, Base):
    __tablename__ = "tenants"

    id: Mapped[str] = id_column()
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    scaikey_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)


class PartnerAdmin(Base):
    """A user who administers a partner: sees and manages every tenant of it and its aggregate stats (docs/identity.md, docs/domains.md, docs/compose.md, D50)."""

    __tablename__ = "partner_admins"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
