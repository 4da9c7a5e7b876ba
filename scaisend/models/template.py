"""Templates and their versions (docs/templates.md, D15). Exactly one version is active."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.db.base import Base, TimestampMixin, id_column


class Template(TimestampMixin, Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    generation: Mapped[str] = mapped_column(String(16), default="dynamic")  # dynamic | legacy


class TemplateVersion(TimestampMixin, Base):
    __tablename__ = "template_versions"

    id: Mapped[str] = id_column()
    template_id: Mapped[str] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(1000))
    preheader: Mapped[str | None] = mapped_column(String(500))
    html_content: Mapped[str | None] = mapped_column(Text().with_variant(mysql.LONGTEXT(), "mysql"))
    plain_content: Mapped[str | None] = mapped_column(Text().with_variant(mysql.LONGTEXT(), "mysql"))
    editor: Mapped[str] = mapped_column(String(16), default="code")
    active: Mapped[int] = mapped_column(Integer, default=0)
