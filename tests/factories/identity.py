"""Factories for the identity model: partners, tenants inside them, users with roles, partner admins, and the
``Authorization`` header of a user signed in through the loopback JWKS issuer."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.models import Partner
from scaisend.tenants.partners import add_partner_admin, create_partner
from scaisend.tenants.users import find_user
from tests.harness.jwks import JwksIssuer


async def make_partner(maker: async_sessionmaker[AsyncSession], scaikey_id: str | None = None) -> str:
    async with unit_of_work(maker) as session:
        partner = await create_partner(session, f"Partner {uuid.uuid4().hex[:8]}", scaikey_id=scaikey_id)
    return partner.id


async def make_partner_admin(maker: async_sessionmaker[AsyncSession], partner_id: str, user_id: str) -> None:
    async with unit_of_work(maker) as session:
        partner = await session.get_one(Partner, partner_id)
        await add_partner_admin(session, partner, await find_user(session, user_id))


def signed_in(issuer: JwksIssuer, user_id: str, tenant_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token(user_id, tenant_id)}"}
