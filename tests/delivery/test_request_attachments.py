"""The request attachments the SMTP service puts back into stored messages (D70) are read from the database once per
process, not once per personalization and attempt (real MariaDB)."""

from __future__ import annotations

import base64

from fastapi import FastAPI
from sqlalchemy import update

from scaisend.db.session import unit_of_work
from scaisend.delivery.request_attachments import RequestAttachments
from scaisend.models import Message, SendRequest
from tests.factories.compose import make_message, personalization, send_body
from tests.factories.tenants import make_tenant


async def _message_with_attachment(app: FastAPI, content: bytes) -> Message:
    maker = app.state.resources.maker
    tenant = await make_tenant(maker)
    attachment = {"content": base64.b64encode(content).decode(), "filename": "a.bin"}
    message_id = await make_message(
        maker, tenant.tenant_id, body=send_body(attachments=[attachment]), personalization_=personalization("x@a.test")
    )
    async with unit_of_work(maker) as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def _forget_the_request_attachments(app: FastAPI, message: Message) -> None:
    async with unit_of_work(app.state.resources.maker) as session:
        await session.execute(update(SendRequest).where(SendRequest.id == message.request_id).values(body={}))


async def test_a_request_is_read_once_then_served_from_memory(app: FastAPI) -> None:
    message = await _message_with_attachment(app, b"0123456789")
    cache = RequestAttachments()
    async with unit_of_work(app.state.resources.maker) as session:
        [first] = await cache.of(session, message)
    await _forget_the_request_attachments(app, message)
    async with unit_of_work(app.state.resources.maker) as session:
        assert await cache.of(session, message) == [first]  # no second read: the row is not consulted again
        assert await RequestAttachments().of(session, message) == []  # a fresh cache reads the changed row


async def test_attachments_larger_than_the_bound_are_read_each_time(app: FastAPI) -> None:
    message = await _message_with_attachment(app, b"x" * 3000)
    cache = RequestAttachments(max_bytes=1000)
    async with unit_of_work(app.state.resources.maker) as session:
        assert len(await cache.of(session, message)) == 1
    await _forget_the_request_attachments(app, message)
    async with unit_of_work(app.state.resources.maker) as session:
        assert await cache.of(session, message) == []
