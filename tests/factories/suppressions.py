"""Factories for suppression rows and ASM groups. Rows that need a chosen ``created`` time go through the service
with ``now=``; the rest go through the public API, as a user would add them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.db.session import unit_of_work
from scaisend.events.types import DropReason
from scaisend.suppressions import service
from scaisend.suppressions.policy import Bypass, drop_reasons
from tests.factories.tenants import TenantKey


def new_email(local: str = "user") -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@example.test"


async def bounce_at(
    app: FastAPI,
    tenant_id: str,
    email: str,
    when: datetime,
    *,
    bounce_type: str = "hard",
    reason: str = "550 5.1.1 User unknown",
    status: str = "5.1.1",
) -> None:
    """A bounce row created at ``when`` (as the delivery stage adds them)."""
    async with unit_of_work(app.state.resources.maker) as session:
        await service.add_bounce(session, tenant_id, email, reason, bounce_type, status, None, now=when)


async def make_bounce(
    client: httpx.AsyncClient, owner: TenantKey, email: str | None = None, **fields: Any
) -> dict[str, Any]:
    """``POST /v3/suppression/bounces``; returns the 201 body."""
    response = await client.post(
        "/v3/suppression/bounces", headers=owner.headers, json={"email": email or new_email("bounce"), **fields}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_spam_report(client: httpx.AsyncClient, owner: TenantKey, email: str | None = None) -> dict[str, Any]:
    response = await client.post(
        "/v3/suppression/spam_reports", headers=owner.headers, json={"email": email or new_email("spam")}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_group(
    client: httpx.AsyncClient, owner: TenantKey, name: str | None = None, **fields: Any
) -> dict[str, Any]:
    """``POST /v3/asm/groups`` (unique name unless given); returns the 201 body with the integer ``id``."""
    body = {"name": name or f"group {uuid.uuid4().hex[:8]}", "description": "test group", **fields}
    response = await client.post("/v3/asm/groups", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def unsubscribe_from_group(client: httpx.AsyncClient, owner: TenantKey, group_id: int, *emails: str) -> None:
    response = await client.post(
        f"/v3/asm/groups/{group_id}/suppressions", headers=owner.headers, json={"recipient_emails": list(emails)}
    )
    assert response.status_code == 201, response.text


async def unsubscribe_globally(client: httpx.AsyncClient, owner: TenantKey, *emails: str) -> None:
    response = await client.post(
        "/v3/asm/suppressions/global", headers=owner.headers, json={"recipient_emails": list(emails)}
    )
    assert response.status_code == 201, response.text


# --- path parameters for tests/test_tenant_isolation.py --------------------------------------------------------------
async def bounce_email(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"email": (await make_bounce(client, owner))["email"]}


async def block_email(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"email": (await make_bounce(client, owner, bounce_type="block"))["email"]}


async def spam_report_email(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"email": (await make_spam_report(client, owner))["email"]}


async def global_unsubscribe_email(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    email = new_email("unsub")
    await unsubscribe_globally(client, owner, email)
    return {"email": email}


async def group_id(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"group_id": str((await make_group(client, owner))["id"])}


async def group_member(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    group = await make_group(client, owner)
    email = new_email("member")
    await unsubscribe_from_group(client, owner, group["id"], email)
    return {"group_id": str(group["id"]), "email": email}


async def drop_reason(
    session: AsyncSession, tenant_id: str, email: str, *, asm_group_id: int | None, bypass: Bypass
) -> DropReason | None:
    """Why one ``email`` is suppressed for a send (``drop_reasons`` for a single address), or ``None``."""
    reasons = await drop_reasons(session, tenant_id, [email], asm_group_id=asm_group_id, bypass=bypass)
    return reasons.get(email)
