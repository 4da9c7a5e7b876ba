"""``/v3/messages`` (docs/sending.md, D4, D48). Routes only. Any valid credential of the tenant reads; cancel needs
``mail.cancel``, retry and fail need ``mail.send``. Another tenant's message is 404 like a missing one.

State changes are committed before the response (and, for retry, before the new job is enqueued)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.auth.deps import MailCancel, MailSend, MessagesRead
from scaisend.db.handoff import hand_off
from scaisend.messages import service
from scaisend.messages.schemas import MessageDetail, MessageFilters, MessageList

router = APIRouter(prefix="/v3/messages", tags=["messages"])


@router.get("", response_model=MessageList)
async def list_messages(
    filters: Annotated[MessageFilters, Query()], principal: MessagesRead, session: SessionDep
) -> MessageList:
    return await service.list_messages(session, principal.tenant_id, filters)


@router.get("/{message_id}", response_model=MessageDetail)
async def get_message(message_id: str, principal: MessagesRead, session: SessionDep) -> MessageDetail:
    row = await service.get_message(session, principal.tenant_id, message_id)
    return await service.message_detail(session, row)


@router.post("/{message_id}/cancel", response_model=MessageDetail)
async def cancel_message(
    message_id: str, principal: MailCancel, session: SessionDep, resources: ResourcesDep
) -> MessageDetail:
    row = await service.cancel_message(session, principal.tenant_id, message_id, resources.clock.now())
    detail = await service.message_detail(session, row)
    await session.commit()
    return detail


@router.post("/{message_id}/retry", response_model=MessageDetail)
async def retry_message(
    message_id: str, principal: MailSend, session: SessionDep, resources: ResourcesDep
) -> MessageDetail:
    row, job = await service.retry_message(session, principal.tenant_id, message_id, resources.clock.now())
    detail = await service.message_detail(session, row)
    hand_off(session, [job])
    await session.commit()
    return detail


@router.post("/{message_id}/fail", response_model=MessageDetail)
async def fail_message(
    message_id: str, principal: MailSend, session: SessionDep, resources: ResourcesDep
) -> MessageDetail:
    row = await service.fail_message(session, principal.tenant_id, message_id, resources.clock.now())
    detail = await service.message_detail(session, row)
    await session.commit()
    return detail
