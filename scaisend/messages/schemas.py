"""Shapes of ``/v3/messages`` (docs/sending.md, D4, D48): the list filters, the list page, and a message's full detail.

Timestamps are ISO-8601 UTC (``...Z``) on messages and Unix seconds on events (docs/sending.md, D3, D24). Dates in filters are
ISO-8601 date-times or ``YYYY-MM-DD``; a bare date as ``end_date`` includes that whole day, and a date-time without
an offset is read as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from scaisend.api.deps import MAX_PAGE
from scaisend.models import EmailEvent, Message, MessageStatus


def _bound(value: str | None, *, end: bool) -> datetime | None:
    if value is None or value == "":
        return None
    text = value.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)  # ValueError → 422
        return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _check_date(value: str | None) -> str | None:
    try:
        _bound(value, end=False)
    except ValueError:
        raise ValueError("must be an ISO-8601 date-time or YYYY-MM-DD") from None
    return value


DateFilter = Annotated[str | None, AfterValidator(_check_date)]
StatusFilter = Annotated[MessageStatus | None, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]


class MessageFilters(BaseModel):
    """Query parameters of ``GET /v3/messages``; an invalid value is a 422 naming the parameter."""

    model_config = ConfigDict(extra="forbid")

    status: StatusFilter = None  # lowercase in the API; QUEUED is accepted too
    to_email: str | None = None
    from_email: str | None = None
    subject: str | None = None
    batch_id: str | None = None
    template_id: str | None = None
    category: str | None = None
    request_id: str | None = None  # the X-Request-ID of the send that created the messages (D55)
    start_date: DateFilter = None
    end_date: DateFilter = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=100)

    @property
    def start(self) -> datetime | None:
        """Created at or after this instant."""
        return _bound(self.start_date, end=False)

    @property
    def end(self) -> datetime | None:
        """Created before this instant (the day after a bare ``end_date``) or at it (a date-time)."""
        return _bound(self.end_date, end=True)

    @property
    def end_inclusive(self) -> bool:
        return self.end_date is not None and len(self.end_date.strip()) != 10


class MessageSummary(BaseModel):
    id: str
    status: str
    from_email: str
    from_name: str | None
    subject: str | None
    to_emails: list[str]
    template_id: str | None
    batch_id: str | None
    categories: list[str]
    request_id: str | None = Field(
        None, description="The X-Request-ID of the /v3/mail/send request that created the message (D55)."
    )
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: Message) -> MessageSummary:
        return cls(
            id=row.id,
            status=row.status,
            from_email=row.from_email,
            from_name=row.from_name,
            subject=row.subject,
            to_emails=list(row.to_emails or []),
            template_id=row.template_id,
            batch_id=row.batch_id,
            categories=list(row.categories or []),
            request_id=row.api_request_id,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )


class MessageList(BaseModel):
    messages: list[MessageSummary]
    total: int
    page: int
    page_size: int
    total_pages: int


class EventOut(BaseModel):
    event_id: str
    event_type: str
    timestamp: int
    recipient_email: str
    metadata: dict[str, Any]

    @classmethod
    def of(cls, row: EmailEvent) -> EventOut:
        return cls(
            event_id=row.event_id,
            event_type=row.event_type,
            timestamp=int(row.occurred_at.timestamp()),
            recipient_email=row.recipient_email,
            metadata=dict(row.data or {}),
        )


class AttachmentInfo(BaseModel):
    """An attachment of the message, without its content."""

    filename: str
    type: str | None
    disposition: str
    content_id: str | None
    size: int  # bytes of base64 text as sent


class MessageDetail(MessageSummary):
    """Everything about one message: its row, what its send request asked for, and its event timeline."""

    sandbox: bool
    send_at: datetime | None
    asm_group_id: int | None
    custom_args: dict[str, Any]
    personalization: dict[str, Any]
    cc: list[str]
    bcc: list[str]
    reply_to: dict[str, Any] | None
    reply_to_list: list[dict[str, Any]] | None
    headers: dict[str, str]
    content: list[dict[str, Any]]
    attachments: list[AttachmentInfo]
    mail_settings: dict[str, Any]
    tracking_settings: dict[str, Any]
    error_message: str | None
    attempts: int
    last_response: str | None
    processed_at: datetime | None
    sent_at: datetime | None
    updated_at: datetime
    events: list[EventOut]

    @classmethod
    def build(cls, row: Message, request: dict[str, Any], events: list[EmailEvent]) -> MessageDetail:
        person = dict(row.personalization or {})
        attachments = [
            AttachmentInfo(
                filename=a.get("filename", ""),
                type=a.get("type"),
                disposition=a.get("disposition", "attachment"),
                content_id=a.get("content_id"),
                size=len(a.get("content", "")),
            )
            for a in request.get("attachments") or []
        ]
        return cls(
            **MessageSummary.of(row).model_dump(),
            sandbox=bool(row.sandbox),
            send_at=row.send_at,
            asm_group_id=row.asm_group_id,
            custom_args=dict(row.custom_args or {}),
            personalization=person,
            cc=[a["email"] for a in person.get("cc") or []],
            bcc=[a["email"] for a in person.get("bcc") or []],
            reply_to=request.get("reply_to"),
            reply_to_list=request.get("reply_to_list"),
            headers={**(request.get("headers") or {}), **(person.get("headers") or {})},
            content=list(request.get("content") or []),
            attachments=attachments,
            mail_settings=dict(request.get("mail_settings") or {}),
            tracking_settings=dict(request.get("tracking_settings") or {}),
            error_message=row.error_message,
            attempts=row.attempts or 0,
            last_response=row.last_response,
            processed_at=row.processed_at,
            sent_at=row.sent_at,
            updated_at=row.updated_at,
            events=[EventOut.of(e) for e in events],
        )
