"""``/v3/mail/send``, ``/v3/mail/batch`` and SendGrid's ``/v3/user/scheduled_sends`` (docs/sending.md). Routes only.

The send route reads the raw body itself so that every refusal, JSON and schema errors included, comes out in
SendGrid's ``{"errors": [...]}`` shape. It hands the compose jobs off (:mod:`scaisend.db.handoff`): they are queued
only after the commit (see :mod:`scaisend.mail.jobs` for the guarantee) and answers 202 with ``X-Message-Id`` (the first message id).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.auth.deps import MailCancel, MailSchedule, MailSend
from scaisend.db.handoff import hand_off
from scaisend.errors import FieldError, SendGridError
from scaisend.logs import request_id_var
from scaisend.mail import batches, service
from scaisend.mail.error_messages import help_url
from scaisend.mail.schemas import BatchCreated, BatchStatus, ScheduledSend, ScheduledSendRequest
from scaisend.mail.validation import decode_body, parse_model, parse_request

logger = logging.getLogger(__name__)
router = APIRouter(tags=["mail"])
SENDGRID_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": 'SendGrid-shaped errors: {"errors": [{message, field, help}]}'}
    for code in (400, 403, 404, 413, 415)
}


@router.post("/v3/mail/send", status_code=status.HTTP_202_ACCEPTED, responses=SENDGRID_ERRORS)
async def send_mail(
    request: Request, principal: MailSend, session: SessionDep, resources: ResourcesDep
) -> JSONResponse:
    mail = parse_request(decode_body(await request.body()))
    now = resources.clock.now()
    accepted = await service.accept_send(session, principal, mail, now, api_request_id=request_id_var.get())
    hand_off(session, accepted.jobs)
    await session.commit()
    # the one line that ties this request id to every message it created (issue 12)
    logger.info("send accepted", extra={"message_ids": accepted.message_ids, "sandbox": accepted.sandbox})
    return JSONResponse(
        accepted.body(), status_code=status.HTTP_202_ACCEPTED, headers={"X-Message-Id": accepted.message_ids[0]}
    )


@router.post("/v3/mail/batch", status_code=status.HTTP_201_CREATED, response_model=BatchCreated)
async def create_batch(principal: MailSchedule, session: SessionDep, resources: ResourcesDep) -> BatchCreated:
    batch = await batches.create_batch(session, principal.tenant_id, resources.clock.now())
    await session.commit()
    return BatchCreated(batch_id=batch.id)


@router.get("/v3/mail/batch/{batch_id}", response_model=BatchStatus, responses=SENDGRID_ERRORS)
async def get_batch(batch_id: str, principal: MailSchedule, session: SessionDep) -> BatchStatus:
    batch = await batches.get_batch(session, principal.tenant_id, batch_id)
    return await batches.batch_status(session, batch)


@router.post("/v3/mail/batch/{batch_id}/cancel", response_model=BatchStatus, responses=SENDGRID_ERRORS)
async def cancel_batch(
    batch_id: str, principal: MailCancel, session: SessionDep, resources: ResourcesDep
) -> BatchStatus:
    batch = await batches.cancel_batch(session, principal.tenant_id, batch_id, resources.clock.now())
    result = await batches.batch_status(session, batch)
    await session.commit()
    return result


@router.post(
    "/v3/user/scheduled_sends",
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduledSend,
    responses=SENDGRID_ERRORS,
)
async def scheduled_send(
    request: Request, principal: MailCancel, session: SessionDep, resources: ResourcesDep
) -> ScheduledSend:
    """SendGrid's cancel of a batch: ``{"batch_id", "status": "cancel"}``; ``pause`` is not supported (400)."""
    body = parse_model(ScheduledSendRequest, decode_body(await request.body()))
    if body.status != "cancel":
        raise SendGridError(
            [FieldError('Pausing scheduled sends is not supported; use "cancel".', "status", help_url("status"))]
        )
    await batches.cancel_batch(session, principal.tenant_id, body.batch_id, resources.clock.now())
    await session.commit()
    return ScheduledSend(batch_id=body.batch_id, status=body.status)
