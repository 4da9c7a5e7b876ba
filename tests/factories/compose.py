"""Factories for the compose stage: messages exactly as the accept stage leaves them (a ``send_requests`` row with the
request minus personalizations, and one ``messages`` row per personalization, ``queued``), plus the suppressions,
ASM groups, templates and tenant tracking settings a compose test needs. All committed through the given maker."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import (
    AsmGroup,
    Message,
    MessageStatus,
    SendRequest,
    Suppression,
    Template,
    TemplateVersion,
    TrackingSettings,
)

HTML = '<html><body><p>Hello <a href="https://example.com/welcome?x=1&amp;y=2">welcome</a></p></body></html>'
TEXT = "Hello, see https://example.com/welcome."


def send_body(**overrides: Any) -> dict[str, Any]:
    """A validated send request without ``personalizations``; keys in ``overrides`` replace the defaults
    (``None`` removes a key)."""
    body: dict[str, Any] = {
        "from": {"email": "sender@example.test", "name": "Sender"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": TEXT}, {"type": "text/html", "value": HTML}],
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def personalization(*to: str, **fields: Any) -> dict[str, Any]:
    return {"to": [{"email": e} for e in (to or ("rcpt@example.test",))], **fields}


async def make_message(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    *,
    body: dict[str, Any] | None = None,
    personalization_: dict[str, Any] | None = None,
    status: str = MessageStatus.QUEUED.value,
) -> str:
    """A send request and one message for ``personalization_``; returns the message id."""
    request = copy.deepcopy(body if body is not None else send_body())
    person = copy.deepcopy(personalization_ if personalization_ is not None else personalization())
    sender = request.get("from") or {}
    asm = request.get("asm") or {}
    message_id = new_id("msg")
    async with unit_of_work(maker) as session:
        row = SendRequest(id=new_id("req"), tenant_id=tenant_id, body=request, created_at=datetime.now(UTC))
        session.add(row)
        await session.flush()
        session.add(
            Message(
                id=message_id,
                tenant_id=tenant_id,
                request_id=row.id,
                status=status,
                sandbox=False,
                from_email=sender.get("email", "sender@example.test"),
                from_name=sender.get("name"),
                subject=person.get("subject") or request.get("subject"),
                to_emails=[t["email"] for t in person.get("to", [])],
                personalization=person,
                template_id=request.get("template_id"),
                asm_group_id=asm.get("group_id"),
                categories=list(request.get("categories") or []),
                custom_args={**(request.get("custom_args") or {}), **(person.get("custom_args") or {})},
            )
        )
    return message_id


async def add_suppression(
    maker: async_sessionmaker[AsyncSession], tenant_id: str, email: str, kind: str, *, group_id: int | None = None
) -> None:
    async with unit_of_work(maker) as session:
        session.add(
            Suppression(
                id=new_id("sup"),
                tenant_id=tenant_id,
                kind=kind,
                email=email,
                group_id=group_id,
                bounce_type="hard" if kind == "bounce" else None,
            )
        )


async def make_asm_group(maker: async_sessionmaker[AsyncSession], tenant_id: str) -> int:
    async with unit_of_work(maker) as session:
        group = AsmGroup(tenant_id=tenant_id, name=f"group {uuid.uuid4().hex[:8]}", description="")
        session.add(group)
        await session.flush()
        return group.id


async def make_template(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: str,
    *,
    generation: str = "dynamic",
    subject: str | None = "Hi {{name}}",
    html: str | None = "<html><body>{{name}}</body></html>",
    text: str | None = None,
    preheader: str | None = None,
) -> str:
    """A template with one active version, written directly (so tests can store versions the API would refuse)."""
    template_id = new_id("d") if generation == "dynamic" else str(uuid4())
    async with unit_of_work(maker) as session:
        session.add(
            Template(id=template_id, tenant_id=tenant_id, name=f"tpl {uuid.uuid4().hex[:8]}", generation=generation)
        )
        await session.flush()
        session.add(
            TemplateVersion(
                id=str(uuid4()),
                template_id=template_id,
                name="v1",
                subject=subject,
                preheader=preheader,
                html_content=html,
                plain_content=text,
                active=1,
            )
        )
    return template_id


async def set_tenant_tracking(maker: async_sessionmaker[AsyncSession], tenant_id: str, **settings: Any) -> None:
    async with unit_of_work(maker) as session:
        await session.merge(TrackingSettings(tenant_id=tenant_id, settings=settings))
