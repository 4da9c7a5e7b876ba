"""Factories for the accept stage and the messages API: valid send bodies, a verified sender domain, sends through
the API, and direct row changes that put a message in any state (as later stages would). Committed for real."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import httpx
from arq.constants import job_key_prefix
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import EmailEvent, Message, SenderDomain
from tests.factories.tenants import TenantKey

SENDER_DOMAIN = "mail.example.com"
SENDER = f"news@{SENDER_DOMAIN}"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()


def send_body(*to: str, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /v3/mail/send`` body with one personalization per address in ``to`` (one default);
    keys in ``overrides`` replace the defaults and ``None`` removes one."""
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": e}]} for e in (to or ("rcpt@example.org",))],
        "from": {"email": SENDER, "name": "News"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi there"}, {"type": "text/html", "value": "<p>Hi there</p>"}],
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = copy.deepcopy(value)
    return body


def sandbox(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``mail_settings.sandbox_mode.enable: true``."""
    return {**body, "mail_settings": {**body.get("mail_settings", {}), "sandbox_mode": {"enable": True}}}


async def make_sender_domain(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    domain: str = SENDER_DOMAIN,
    *,
    verified: bool = True,
    active: bool = True,
) -> str:
    """A sender domain row as verification leaves it (no DKIM key: the accept stage does not need one)."""
    async with unit_of_work(maker) as session:
        row = SenderDomain(
            id=new_id("dom"),
            tenant_id=tenant_id,
            domain=domain,
            verified=verified,
            dkim_verified=verified,
            spf_verified=verified,
            dmarc_verified=verified,
            is_active=active,
        )
        session.add(row)
    return row.id


async def send(client: httpx.AsyncClient, owner: TenantKey, body: dict[str, Any]) -> list[str]:
    """Send through the API, expecting 202; the message ids in personalization order."""
    response = await client.post("/v3/mail/send", headers=owner.headers, json=body)
    assert response.status_code == 202, response.text
    data = response.json()
    return [data["message_id"]] if "message_id" in data else list(data["message_ids"])


async def send_sandbox(client: httpx.AsyncClient, owner: TenantKey, *to: str, **overrides: Any) -> list[str]:
    return await send(client, owner, sandbox(send_body(*to, **overrides)))


async def create_batch(client: httpx.AsyncClient, owner: TenantKey) -> str:
    response = await client.post("/v3/mail/batch", headers=owner.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["batch_id"])


async def create_template(
    client: httpx.AsyncClient,
    owner: TenantKey,
    *,
    subject: str | None = "Hi {{name}}",
    html: str = "<p>Hello {{name}}</p>",
    with_version: bool = True,
) -> str:
    """A dynamic template through ``/v3/templates`` with one active version (or none)."""
    response = await client.post(
        "/v3/templates", headers=owner.headers, json={"name": f"tpl {new_id('t')[-8:]}", "generation": "dynamic"}
    )
    assert response.status_code == 201, response.text
    template_id = str(response.json()["id"])
    if with_version:
        version = await client.post(
            f"/v3/templates/{template_id}/versions",
            headers=owner.headers,
            json={"name": "v1", "subject": subject, "html_content": html, "active": 1},
        )
        assert version.status_code == 201, version.text
    return template_id


async def create_asm_group(client: httpx.AsyncClient, owner: TenantKey) -> int:
    response = await client.post(
        "/v3/asm/groups",
        headers=owner.headers,
        json={"name": f"group {new_id('g')[-8:]}", "description": "newsletters"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def message_row(maker: async_sessionmaker[AsyncSession], message_id: str) -> Message:
    async with unit_of_work(maker) as session:
        row = await session.scalar(select(Message).where(Message.id == message_id))
    assert row is not None, message_id
    return row


async def set_message(maker: async_sessionmaker[AsyncSession], message_id: str, **values: Any) -> None:
    """Change columns of a message directly, as the compose and delivery stages would."""
    async with unit_of_work(maker) as session:
        await session.execute(update(Message).where(Message.id == message_id).values(**values))


async def add_event(
    maker: async_sessionmaker[AsyncSession], message: Message, event_type: str, at: datetime, **metadata: Any
) -> str:
    """An ``email_events`` row on the message's timeline."""
    event_id = new_id("evt")
    async with unit_of_work(maker) as session:
        session.add(
            EmailEvent(
                event_id=event_id,
                occurred_at=at,
                tenant_id=message.tenant_id,
                message_id=message.id,
                event_type=event_type,
                recipient_email=message.to_emails[0],
                data=metadata,
            )
        )
    return event_id


class ProcessQueue:
    """The run's ``email:process`` sorted set as a user of Redis sees it: job id → score (ms since the epoch when the
    job may run)."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key

    async def scores(self) -> dict[str, int]:
        rows = await self.redis.zrange(self.key, 0, -1, withscores=True)
        return {member.decode(): int(score) for member, score in rows}

    async def clear(self) -> None:
        """Remove the queue and its jobs, so later tests (and burst workers) do not see them."""
        for job_id in await self.scores():
            await self.redis.delete(job_key_prefix + job_id)
        await self.redis.delete(self.key)


STALE_AT = datetime(2001, 1, 1, tzinfo=UTC)


class StaleMessages:
    """Messages made to look untouched since :data:`STALE_AT`, for the requeue sweep (which spans tenants); they are
    retired (``failed``) afterwards so later sweeps do not see them."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        self.ids: list[str] = []

    async def age(self, *message_ids: str) -> None:
        self.ids.extend(message_ids)
        for message_id in message_ids:
            await set_message(self.maker, message_id, updated_at=STALE_AT)

    async def retire(self) -> None:
        async with unit_of_work(self.maker) as session:
            await session.execute(
                update(Message)
                .where(Message.id.in_(self.ids), Message.status == "queued")
                .values(status="failed", error_message="retired by the test")
            )


# --- creators for tests/test_tenant_isolation.py ----------------------------------------------------------------------
async def isolation_message(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    """A (sandbox) message of ``owner``."""
    return {"message_id": (await send_sandbox(client, owner))[0]}


async def isolation_batch(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"batch_id": await create_batch(client, owner)}
