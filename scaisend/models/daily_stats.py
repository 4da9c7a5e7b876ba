"""``daily_stats`` (docs/stats.md, D5, D9): one row per tenant, day and category (``""`` = all categories), one integer
column per SendGrid metric (:data:`scaisend.stat_metrics.STAT_METRICS`), updated live with one upsert per event."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.clock import utcnow
from scaisend.db.base import Base
from scaisend.db.types import UTCDateTime
from scaisend.stat_metrics import ALL_CATEGORIES, STAT_METRICS

__all__ = ["ALL_CATEGORIES", "STAT_METRICS", "DailyStat"]


class DailyStat(Base):
    __tablename__ = "daily_stats"
    __table_args__ = (
        UniqueConstraint("tenant_id", "date", "category", name="uq_daily_stats_key"),
        Index("ix_daily_stats_date_category", "date", "category"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(255), default=ALL_CATEGORIES)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    bounce_drops: Mapped[int] = mapped_column(Integer, default=0)
    blocks: Mapped[int] = mapped_column(Integer, default=0)
    spam_reports: Mapped[int] = mapped_column(Integer, default=0)
    spam_report_drops: Mapped[int] = mapped_column(Integer, default=0)
    unsubscribes: Mapped[int] = mapped_column(Integer, default=0)
    unsubscribe_drops: Mapped[int] = mapped_column(Integer, default=0)
    invalid_emails: Mapped[int] = mapped_column(Integer, default=0)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    unique_opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    unique_clicks: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
