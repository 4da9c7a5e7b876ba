"""Factories for webhook tests: endpoints (through the service, so secrets are sealed as in production), messages
to hang events on, events recorded through the real recorder in an enqueuing unit of work, and row readers.
Everything is committed through the given maker."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.handoff import unit_of_work_handing_off
from scaisend.db.session import unit_of_work
from scaisend.events.recorder import record_event
from scaisend.events.types import EventType
from scaisend.ids import new_id
from scaisend.models import EmailEvent, Message, WebhookDelivery, WebhookEndpoint
from scaisend.queues import Queues
from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from scaisend.webhooks import service
from scaisend.webhooks.schemas import EventWebhookSettingsUpdate
from scaisend.webhooks.service import OAuthInput
from tests.factories.tenants import TenantKey


async def make_endpoint(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant_id: str,
    url: str,
    events: list[str] | None = None,
    *,
    enabled: bool = True,
    oauth: OAuthInput | None = None,
) -> tuple[str, str]:
    """An endpoint subscribed to ``events`` (default ``["*"]``); returns ``(id, signing secret)``."""
    async with unit_of_work(maker) as session:
        row, secret = await service.create_endpoint(
            session, settings, make_resolver(settings), tenant_id, url=url, enabled_events=events or ["*"], oauth=oauth
        )
        row.enabled = enabled
    return row.id, secret


async def make_event_webhook(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant_id: str,
    url: str,
    *,
    signed: bool = False,
    **fields: Any,
) -> str | None:
    """Enable the tenant's Event Webhook at ``url`` with every toggle on unless ``fields`` say otherwise; returns
    the public key when ``signed``."""
    toggles = {
        name: True
        for name in EventWebhookSettingsUpdate.model_fields
        if name not in ("enabled", "url", "friendly_name", "oauth_client_id", "oauth_client_secret", "oauth_token_url")
    }
    changes = EventWebhookSettingsUpdate(**{"enabled": True, "url": url, **toggles, **fields})
    async with unit_of_work(maker) as session:
        await service.update_event_webhook(session, settings, make_resolver(settings), tenant_id, changes)
        row = await service.set_signed(session, settings, tenant_id, signed)
    return row.public_key


async def make_message(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    *,
    categories: list[str] | None = None,
    custom_args: dict[str, Any] | None = None,
    asm_group_id: int | None = None,
    api_request_id: str | None = None,
) -> str:
    """A sent message row carrying the categories, custom_args and ASM group that events echo, and the request id
    of its send."""
    async with unit_of_work(maker) as session:
        row = Message(
            id=new_id("msg"),
            tenant_id=tenant_id,
            status="sent",
            from_email="news@example.test",
            to_emails=["rcpt@example.test"],
            categories=categories or [],
            custom_args=custom_args or {},
            asm_group_id=asm_group_id,
            api_request_id=api_request_id,
        )
        session.add(row)
    return row.id


async def record(
    maker: async_sessionmaker[AsyncSession],
    redis: Redis,
    queues: Queues,
    tenant_id: str,
    event_type: EventType | str,
    occurred_at: datetime,
    *,
    message_id: str | None = None,
    recipient: str = "rcpt@example.test",
    metadata: dict[str, Any] | None = None,
    categories: list[str] | None = None,
) -> EmailEvent:
    """Record one event through the recorder, committing and then enqueueing its deliveries (the worker edge)."""
    async with unit_of_work_handing_off(maker, redis, queues) as session:
        event = await record_event(
            session,
            tenant_id=tenant_id,
            message_id=message_id or f"msg_{uuid.uuid4().hex}",
            event_type=event_type,
            recipient_email=recipient,
            occurred_at=occurred_at,
            metadata=metadata,
            categories=categories,
        )
    assert event is not None
    return event


async def deliveries(maker: async_sessionmaker[AsyncSession], tenant_id: str) -> list[WebhookDelivery]:
    """Every delivery row of the tenant, oldest first."""
    async with unit_of_work(maker) as session:
        rows = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.tenant_id == tenant_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        )
        return list(rows)


async def delivery(maker: async_sessionmaker[AsyncSession], delivery_id: str) -> WebhookDelivery:
    async with unit_of_work(maker) as session:
        row = await session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))
    assert row is not None
    return row


async def endpoint(maker: async_sessionmaker[AsyncSession], endpoint_id: str) -> WebhookEndpoint:
    async with unit_of_work(maker) as session:
        row = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    assert row is not None
    return row


async def isolation_webhook(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    """A webhook endpoint created through the API, for the tenant-isolation cases."""
    response = await client.post(
        "/v3/user/webhooks",
        headers=owner.headers,
        json={"url": "https://hooks.example.test/isolated", "enabled_events": ["*"]},
    )
    assert response.status_code == 201, response.text
    return {"webhook_id": response.json()["id"]}
