"""Completing a sign-in (docs/identity.md, D1, D53): the tenant named by the ID token, and the user created or updated from
its claims (``sub`` is the user's ScaiKey id; ``email``, ``given_name``, ``family_name``, ``name``; a ``groups``
claim, when present, sets the user's group memberships in that tenant)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import ForbiddenError, TenantSuspendedError
from scaisend.models import Tenant, User
from scaisend.settings import Settings
from scaisend.tenants import users
from scaisend.tenants.service import resolve_tenant


def _text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value.strip()[:255] if isinstance(value, str) and value.strip() else None


async def tenant_of(session: AsyncSession, settings: Settings, claims: dict[str, Any]) -> Tenant:
    ref = claims.get(settings.OIDC_TENANT_CLAIM)
    tenant = await resolve_tenant(session, ref) if isinstance(ref, str) and ref else None
    if tenant is None:
        raise ForbiddenError(f"The identity provider named no known tenant (claim {settings.OIDC_TENANT_CLAIM})")
    if tenant.suspended:
        raise TenantSuspendedError()
    return tenant


async def user_from_claims(session: AsyncSession, tenant: Tenant, claims: dict[str, Any]) -> User:
    subject = str(claims["sub"])
    profile = {
        "email": (_text(claims, "email") or "")[:320],
        "first_name": _text(claims, "given_name"),
        "last_name": _text(claims, "family_name"),
        "display_name": _text(claims, "name"),
    }
    user = await users.upsert_scaikey_user(session, subject, profile, tenant.id, move=False)
    groups = claims.get("groups")
    if isinstance(groups, list):
        await users.sync_groups(session, user, tenant.id, [g for g in groups if isinstance(g, str)])
    await session.flush()
    return user
