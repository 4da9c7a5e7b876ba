"""API-key service (D3): create, authenticate, list, update, rotate and revoke. Only SHA-256 hashes are stored;
revocation and expiry take effect on the next request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.scopes import unknown_scopes
from scaisend.errors import AuthenticationError, BadRequestError, NotFoundError
from scaisend.ids import api_key_prefix, hash_api_key, new_api_key, new_id
from scaisend.models import ApiKey

INVALID_API_KEY = "Invalid API key"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


def check_scopes(scopes: list[str]) -> None:
    unknown = unknown_scopes(scopes)
    if unknown:
        raise BadRequestError(f"Unknown scope: {', '.join(unknown)}")


async def create_api_key(
    session: AsyncSession,
    *,
    tenant_id: str,
    name: str,
    scopes: list[str],
    environment: str = "live",
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return the row and the secret, which is never retrievable again."""
    check_scopes(scopes)
    secret = new_api_key(environment)
    row = ApiKey(
        id=new_id("key"),
        tenant_id=tenant_id,
        name=name,
        key_hash=hash_api_key(secret),
        prefix=api_key_prefix(secret),
        environment=environment,
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, secret


async def authenticate_api_key(session: AsyncSession, secret: str, now: datetime) -> ApiKey:
    """The live key row for ``secret``; :class:`AuthenticationError` for unknown, revoked or expired keys."""
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(secret)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise AuthenticationError(INVALID_API_KEY)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row


async def list_api_keys(session: AsyncSession, tenant_id: str, include_revoked: bool) -> Sequence[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return (await session.scalars(stmt)).all()


async def get_api_key(session: AsyncSession, tenant_id: str, key_id: str) -> ApiKey:
    row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id))
    if row is None:
        raise NotFoundError(f"API key not found: {key_id}")
    return row


async def update_api_key(session: AsyncSession, row: ApiKey, *, name: str | None, scopes: list[str] | None) -> ApiKey:
    if name is not None:
        row.name = name
    if scopes is not None:
        check_scopes(scopes)
        row.scopes = sorted(set(scopes))
    await session.flush()
    return row


async def rotate_api_key(session: AsyncSession, row: ApiKey) -> str:
    """Give the key a new secret; the old one stops working at once."""
    secret = new_api_key(row.environment)
    row.key_hash = hash_api_key(secret)
    row.prefix = api_key_prefix(secret)
    await session.flush()
    return secret


async def revoke_api_key(session: AsyncSession, row: ApiKey, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
    await session.flush()
