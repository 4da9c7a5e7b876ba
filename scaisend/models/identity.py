"""Sign-in sessions and identity-event bookkeeping (docs/identity.md, docs/observability.md, docs/deploy.md, D1).

``refresh_tokens``: the ``rtk_…`` tokens ``/v3/auth/*`` hands out; only their SHA-256 is stored, the identity
provider's own refresh token beside it encrypted with ``SECRET_KEY``. Each refresh replaces the token (rotation);
reusing a replaced one revokes its whole family (D53).

``identity_events``: the ids of the ScaiKey identity events already applied, so a redelivery is acknowledged and not
applied twice (D54)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scaisend.clock import utcnow
from scaisend.db.base import Base, TimestampMixin, id_column
from scaisend.db.types import UTCDateTime


class RefreshToken(TimestampMixin, Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    provider_refresh_token: Mapped[str] = mapped_column(Text)  # encrypted (scaisend.crypto)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdentityEvent(Base):
    __tablename__ = "identity_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True, nullable=False)
