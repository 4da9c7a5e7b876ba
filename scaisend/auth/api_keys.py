"""API-key service (D3): create, authenticate, list, update, rotate and revoke. Only SHA-256 hashes are stored;
expiry takes effect on the next request, revocation on the next request once the change has propagated: at once in
the process that revoked, within a second in every other (the key look-up is cached per process, D82)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.scopes import unknown_scopes
from scaisend.db.config_cache import ConfigCache
from scaisend.errors import AuthenticationError, BadRequestError, NotFoundError
from scaisend.ids import api_key_prefix, hash_api_key, new_api_key, new_id
from scaisend.models import ApiKey, Tenant

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


@dataclass(frozen=True)
class KeyGrant:
    """What a request needs from its API key and the key's tenant (a cached copy, never the row)."""

    key_id: str
    tenant_id: str
    scopes: frozenset[str]
    environment: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    tenant_suspended: bool


KEY_GRANTS: ConfigCache[str, KeyGrant | None] = ConfigCache()  # by key hash


async def _load_grant(session: AsyncSession, key_hash: str) -> KeyGrant | None:
    row = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.tenant_id,
                ApiKey.scopes,
                ApiKey.environment,
                ApiKey.expires_at,
                ApiKey.revoked_at,
                ApiKey.last_used_at,
                Tenant.suspended,
            )
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .where(ApiKey.key_hash == key_hash)
        )
    ).one_or_none()
    if row is None:
        return None
    return KeyGrant(
        row.id,
        row.tenant_id,
        frozenset(row.scopes or ()),
        row.environment,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        bool(row.suspended),
    )


async def authenticate_api_key(session: AsyncSession, secret: str, now: datetime) -> KeyGrant:
    """The live key for ``secret`` with its tenant's suspension; :class:`AuthenticationError` for unknown, revoked
    or expired keys. One statement on a cache miss (key and tenant joined), none on a hit; ``last_used_at`` is
    written at most once per :data:`LAST_USED_RESOLUTION` (a bookkeeping write: it does not invalidate caches)."""
    key_hash = hash_api_key(secret)
    grant = await KEY_GRANTS.get(key_hash, lambda: _load_grant(session, key_hash))
    if grant is None or grant.revoked_at is not None or (grant.expires_at is not None and grant.expires_at <= now):
        raise AuthenticationError(INVALID_API_KEY)
    if grant.last_used_at is None or now - grant.last_used_at >= LAST_USED_RESOLUTION:
        connection = await session.connection()  # Core on the connection: not a configuration change
        await connection.execute(update(ApiKey).where(ApiKey.id == grant.key_id).values(last_used_at=now))
        KEY_GRANTS.put(key_hash, replace(grant, last_used_at=now))
    return grant


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
