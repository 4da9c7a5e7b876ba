"""Per-tenant caps on what a tenant can create through the API (issue 9 finding 3; D47): unrevoked API keys, webhook
endpoints and sender domains, each bounded by a setting. Above the cap the API answers
``403 {"detail": "<what> limit reached: <n> per tenant"}``; the operator's CLI is not capped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import ForbiddenError
from scaisend.models import ApiKey, SenderDomain, WebhookEndpoint
from scaisend.settings import Settings


class QuotaExceededError(ForbiddenError):
    def __init__(self, what: str, cap: int) -> None:
        super().__init__(f"{what} limit reached: {cap} per tenant; delete one first or ask the operator")


async def _require_room(
    session: AsyncSession, model: Any, tenant_id: str, cap: int, what: str, *extra: ColumnElement[bool]
) -> None:
    count = await session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id, *extra))
    if (count or 0) >= cap:
        raise QuotaExceededError(what, cap)


async def require_api_key_room(session: AsyncSession, settings: Settings, tenant_id: str) -> None:
    cap = settings.MAX_API_KEYS_PER_TENANT
    await _require_room(session, ApiKey, tenant_id, cap, "API key", ApiKey.revoked_at.is_(None))


async def require_webhook_room(session: AsyncSession, settings: Settings, tenant_id: str) -> None:
    await _require_room(session, WebhookEndpoint, tenant_id, settings.MAX_WEBHOOKS_PER_TENANT, "Webhook endpoint")


async def require_domain_room(session: AsyncSession, settings: Settings, tenant_id: str) -> None:
    await _require_room(session, SenderDomain, tenant_id, settings.MAX_SENDER_DOMAINS_PER_TENANT, "Sender domain")
