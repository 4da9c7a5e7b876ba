"""docs/templates.md: a send accepted with a template renders the version it was accepted with, even when the template is
changed or deleted before the worker reaches it; new sends after the delete are refused."""

from __future__ import annotations

import email
from typing import Any

import httpx
from fastapi import FastAPI

from scaisend.compose.tasks import process_email
from scaisend.db.session import unit_of_work
from scaisend.models import Message, MessageContent
from tests.factories.messages import create_template, make_sender_domain, send, send_body
from tests.factories.tenants import TenantKey


async def test_in_flight_send_survives_template_delete(
    app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, compose_ctx: dict[str, Any]
) -> None:
    maker = app.state.resources.maker
    await make_sender_domain(maker, tenant.tenant_id)
    template_id = await create_template(client, tenant, subject="Hi {{name}}", html="<p>Hello {{name}}</p>")
    person = {"to": [{"email": "ann@example.org"}], "dynamic_template_data": {"name": "Ann"}}
    body = send_body(content=None, subject=None, template_id=template_id, personalizations=[person])
    (message_id,) = await send(client, tenant, body)
    deleted = await client.delete(f"/v3/templates/{template_id}", headers=tenant.headers)
    assert deleted.status_code == 204
    refused = await client.post("/v3/mail/send", headers=tenant.headers, json=body)
    assert refused.status_code == 400

    await process_email(compose_ctx, message_id)

    async with unit_of_work(maker) as session:
        message = await session.get(Message, message_id)
        content = await session.get(MessageContent, message_id)
    assert message is not None
    assert (message.status, message.error_message) == ("rendered", None)
    assert content is not None
    parsed = email.message_from_bytes(content.mime)
    assert parsed["Subject"] == "Hi Ann"
    html = next(p for p in parsed.walk() if p.get_content_type() == "text/html")
    assert "Hello Ann" in html.get_payload(decode=True).decode()
