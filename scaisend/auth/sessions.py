"""Refresh tokens of signed-in users (docs/identity.md, D1, D53): ``rtk_…`` secrets of which only the SHA-256 is stored, each
beside the identity provider's own refresh token (encrypted with ``SECRET_KEY``; earlier keys in
``SECRET_KEY_PREVIOUS`` still decrypt). A refresh replaces the token
(rotation); presenting a token that was already replaced or revoked revokes every token of its sign-in (its family),
since one of the two holders is not the user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.crypto import decrypt, encrypt
from scaisend.errors import AuthenticationError
from scaisend.ids import new_id
from scaisend.models import RefreshToken
from scaisend.settings import Settings

PREFIX = "rtk_"
ENCRYPTION_PURPOSE = "oidc-refresh-token"
INVALID = "Invalid or expired refresh token"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Held:
    """A refresh token just taken for use: who it belongs to and the provider's refresh token."""

    user_id: str
    tenant_id: str
    family_id: str
    provider_refresh_token: str


async def issue(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: str,
    tenant_id: str,
    provider_refresh_token: str | None,
    now: datetime,
    family_id: str | None = None,
) -> str:
    """A new ``rtk_`` token; its secret is returned once and never stored."""
    secret = PREFIX + secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=new_id("rtk"),
            token_hash=_hash(secret),
            family_id=family_id or new_id("fam"),
            user_id=user_id,
            tenant_id=tenant_id,
            provider_refresh_token=encrypt(settings.secret_keys, provider_refresh_token or "", ENCRYPTION_PURPOSE),
            expires_at=now + settings.refresh_token_ttl,
        )
    )
    await session.flush()
    return secret


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def take(session: AsyncSession, settings: Settings, secret: str, now: datetime) -> Held | None:
    """Use a refresh token once (it is revoked here). Unknown or expired → 401; a token already used or revoked
    revokes its family and gives ``None``: the caller answers 401 and lets the revocation commit."""
    row = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(secret)).with_for_update())
    if row is None or row.expires_at <= now:
        raise AuthenticationError(INVALID)
    if row.revoked_at is not None:
        await revoke_family(session, row.family_id, now)
        return None
    row.revoked_at = now
    await session.flush()
    return Held(
        row.user_id,
        row.tenant_id,
        row.family_id,
        decrypt(settings.secret_keys, row.provider_refresh_token, ENCRYPTION_PURPOSE),
    )


async def revoke(session: AsyncSession, settings: Settings, secret: str, now: datetime) -> str | None:
    """Logout: revoke the token's whole sign-in; the provider's refresh token, for revoking there too."""
    row = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(secret)))
    if row is None:
        return None
    await revoke_family(session, row.family_id, now)
    await session.flush()
    return decrypt(settings.secret_keys, row.provider_refresh_token, ENCRYPTION_PURPOSE) or None
