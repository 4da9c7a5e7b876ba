"""Factories for tenants, users and API keys, committed through the app's own session maker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.auth.api_keys import create_api_key
from scaisend.auth.scopes import SCOPE_NAMES
from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import User
from scaisend.tenants.service import assign_role, create_tenant


@dataclass(frozen=True)
class TenantKey:
    tenant_id: str
    key_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_tenant(
    maker: async_sessionmaker[AsyncSession],
    scopes: list[str] | None = None,
    environment: str = "live",
    partner_id: str | None = None,
) -> TenantKey:
    """A fresh tenant (in ``partner_id`` when given) and one API key (all scopes unless given)."""
    async with unit_of_work(maker) as session:
        tenant = await create_tenant(session, f"Tenant {uuid.uuid4().hex[:8]}", partner_id=partner_id)
        row, secret = await create_api_key(
            session,
            tenant_id=tenant.id,
            name="factory key",
            scopes=sorted(SCOPE_NAMES) if scopes is None else scopes,
            environment=environment,
        )
    return TenantKey(tenant.id, row.id, secret)


async def make_key(
    maker: async_sessionmaker[AsyncSession], tenant_id: str, scopes: list[str], environment: str = "live"
) -> TenantKey:
    async with unit_of_work(maker) as session:
        row, secret = await create_api_key(
            session, tenant_id=tenant_id, name="extra key", scopes=scopes, environment=environment
        )
    return TenantKey(tenant_id, row.id, secret)


async def make_user(
    maker: async_sessionmaker[AsyncSession], tenant_id: str, role: str, scaikey_id: str | None = None
) -> str:
    async with unit_of_work(maker) as session:
        user = User(id=new_id("usr"), email=f"{uuid.uuid4().hex[:8]}@example.test", scaikey_id=scaikey_id)
        session.add(user)
        await session.flush()
        await assign_role(session, user.id, tenant_id, role)
    return user.id
