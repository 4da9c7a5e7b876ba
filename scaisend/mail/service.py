"""Accepting a send (docs/sending.md, docs/architecture.md, docs/compose.md, docs/delivery.md, D21 step 1): validate everything, store one ``send_requests`` row and one
``messages`` row per personalization, and say which ``process_email`` jobs to enqueue once that is committed.
Never commits (the endpoint does, then enqueues).

Storage contract (read by compose):

- ``send_requests.body``: the validated request with SendGrid's names, without ``personalizations`` (attachments once);
- ``messages``: ``msg_…`` id, ``request_id`` (the ``send_requests`` row), ``api_request_id`` (the ``X-Request-ID``,
  D55), ``api_key_id``, status ``queued`` (``sandbox`` in sandbox), ``sandbox``,
  from (the personalization's ``from`` when it has one), ``subject`` (personalization's, else top level, None when
  the template supplies it), ``to_emails``, ``personalization`` (SendGrid names), ``template_id``, ``batch_id``,
  ``asm_group_id``, ``categories``, ``custom_args`` (top level updated by the personalization's) and ``send_at``
  (personalization's, else top level; UTC).

Order of refusals: 403 ``mail.schedule`` when ``send_at``/``batch_id`` is used without it; then every 400 at once;
then, for live sends only, 403 "Sender domain not verified" naming the first unverified ``from``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.auth.principal import Principal
from scaisend.domains.service import sending_domain
from scaisend.errors import MissingScopeError, SenderDomainNotVerifiedError, SendGridError
from scaisend.ids import new_id
from scaisend.mail import repository
from scaisend.mail.jobs import process_email_for
from scaisend.mail.schemas import MailSendRequest, Personalization
from scaisend.mail.validation import References, check_references, check_request
from scaisend.models import Message, MessageStatus, SendRequest
from scaisend.queues import Job
from scaisend.templates import repository as template_repository
from scaisend.templates.service import active_version
from scaisend.templates.snapshot import TEMPLATE_SNAPSHOT_KEY, take_snapshot


@dataclass(frozen=True)
class Accepted:
    """The outcome of a send: the message ids in personalization order and the jobs to enqueue after commit
    (none in sandbox)."""

    message_ids: list[str]
    jobs: list[Job] = field(default_factory=list)
    sandbox: bool = False

    def body(self) -> dict[str, Any]:
        """SendGrid's quirk kept on purpose: ``message_id`` for one personalization, ``message_ids`` for several."""
        if len(self.message_ids) == 1:
            return {"message_id": self.message_ids[0]}
        return {"message_ids": list(self.message_ids)}


async def load_references(session: AsyncSession, tenant_id: str, mail: MailSendRequest) -> References:
    """The tenant's template, batch and ASM groups the request names."""
    template_found = template_active = False
    template_subject: str | None = None
    snapshot: dict[str, Any] | None = None
    if mail.template_id and mail.template_id.startswith("d-"):
        found = await active_version(session, tenant_id, mail.template_id)
        if found is not None:
            template_found = template_active = True
            template_subject = found[1].subject
            snapshot = take_snapshot(*found).as_json()
        else:
            template_found = await template_repository.get_template(session, tenant_id, mail.template_id) is not None
    batch = await repository.get_batch(session, tenant_id, mail.batch_id, lock="share") if mail.batch_id else None
    groups: set[int] = set()
    if mail.asm is not None:
        groups = {mail.asm.group_id, *(mail.asm.groups_to_display or [])}
    return References(
        template_found=template_found,
        template_active=template_active,
        template_subject=template_subject,
        template_snapshot=snapshot,
        batch_status=batch.status if batch is not None else None,
        asm_groups=await repository.existing_asm_groups(session, tenant_id, groups),
    )


async def check_sender_domains(session: AsyncSession, tenant_id: str, mail: MailSendRequest) -> None:
    """Live sends: every ``from`` address must be on a verified, active sender domain of the tenant (docs/domains.md, D14)."""
    checked: dict[str, bool] = {}
    senders = [("from.email", mail.from_.email)] + [
        (f"personalizations.{i}.from.email", p.from_.email) for i, p in enumerate(mail.personalizations) if p.from_
    ]
    for field_path, email in senders:
        domain = email.rpartition("@")[2].lower()
        if domain not in checked:
            checked[domain] = await sending_domain(session, tenant_id, email) is not None
        if not checked[domain]:
            raise SenderDomainNotVerifiedError(field_path)


def _send_at(mail: MailSendRequest, person: Personalization) -> datetime | None:
    value = person.send_at if person.send_at is not None else mail.send_at
    return None if value is None else datetime.fromtimestamp(value, UTC)


def build_message(
    mail: MailSendRequest,
    person: Personalization,
    *,
    tenant_id: str,
    request_id: str,
    api_request_id: str | None,
    api_key_id: str | None,
    sandbox: bool,
    now: datetime,
) -> Message:
    """The ``messages`` row of one personalization."""
    sender = person.from_ or mail.from_
    return Message(
        id=new_id("msg"),
        tenant_id=tenant_id,
        request_id=request_id,
        api_request_id=api_request_id,
        api_key_id=api_key_id,
        status=(MessageStatus.SANDBOX if sandbox else MessageStatus.QUEUED).value,
        sandbox=sandbox,
        from_email=sender.email,
        from_name=sender.name,
        subject=person.subject or mail.subject,
        to_emails=[a.email for a in person.to],
        personalization=person.model_dump(mode="json", by_alias=True, exclude_none=True),
        template_id=mail.template_id,
        batch_id=mail.batch_id,
        asm_group_id=mail.asm.group_id if mail.asm else None,
        categories=list(mail.categories or []),
        custom_args={**(mail.custom_args or {}), **(person.custom_args or {})},
        send_at=_send_at(mail, person),
        attempts=0,
        created_at=now,
        updated_at=now,
    )


async def accept_send(
    session: AsyncSession, principal: Principal, mail: MailSendRequest, now: datetime, api_request_id: str | None = None
) -> Accepted:
    """Validate ``mail`` for the caller's tenant and stage its rows (each remembering ``api_request_id``, the
    request's ``X-Request-ID``, D55); raises the 400/403 errors of docs/sending.md."""
    if mail.needs_schedule_scope and not principal.has("mail.schedule"):
        raise MissingScopeError("mail.schedule")
    errors = check_request(mail, now)
    references = await load_references(session, principal.tenant_id, mail)
    errors += check_references(mail, references)
    if errors:
        raise SendGridError(errors)
    sandbox = principal.is_test or mail.sandbox_requested
    if not sandbox:
        await check_sender_domains(session, principal.tenant_id, mail)
    body = mail.stored_body()
    if references.template_snapshot is not None:
        body[TEMPLATE_SNAPSHOT_KEY] = references.template_snapshot
    request = SendRequest(id=new_id("req"), tenant_id=principal.tenant_id, body=body, created_at=now)
    messages = [
        build_message(
            mail,
            person,
            tenant_id=principal.tenant_id,
            request_id=request.id,
            api_request_id=api_request_id,
            api_key_id=principal.api_key_id,
            sandbox=sandbox,
            now=now,
        )
        for person in mail.personalizations
    ]
    await repository.add_send(session, request, messages)
    jobs = (
        []
        if sandbox
        else [
            process_email_for(m.id, m.send_at, now, tenant_id=m.tenant_id, request_id=m.api_request_id)
            for m in messages
        ]
    )
    return Accepted([m.id for m in messages], jobs, sandbox)
