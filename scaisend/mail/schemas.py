"""The shapes of ``/v3/mail/*`` (docs/sending.md; SendGrid's ``tsg_mail_v3.json``) with SendGrid's field names.

The request models check JSON types and required fields only (strict: no ``"1"`` for ``1``, no ``1`` for ``true``).
Every rule about values (sizes, counts, empty strings, address syntax, duplicates, reserved headers, base64, 72 hours)
lives in :mod:`scaisend.mail.validation`, so that all value errors of a request are reported together. Unknown fields
are ignored, as SendGrid does with settings ScaiSend does not implement (``mail_settings.bcc``, ``spam_check``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)


class EmailAddress(_Request):
    """``{email, name?}`` as in ``from``, ``reply_to`` and the recipients."""

    email: str
    name: str | None = None


class Personalization(_Request):
    to: list[EmailAddress]
    cc: list[EmailAddress] | None = None
    bcc: list[EmailAddress] | None = None
    from_: EmailAddress | None = Field(None, alias="from")
    subject: str | None = None
    headers: dict[str, str] | None = None
    substitutions: dict[str, str] | None = None
    dynamic_template_data: dict[str, Any] | None = None
    custom_args: dict[str, str] | None = None
    send_at: int | None = None

    def recipients(self) -> list[tuple[str, int, EmailAddress]]:
        """``(field, index, address)`` of every ``to``, ``cc`` and ``bcc`` entry, in that order."""
        return [
            (name, i, address) for name in ("to", "cc", "bcc") for i, address in enumerate(getattr(self, name) or [])
        ]


class Content(_Request):
    type: str
    value: str


class Attachment(_Request):
    content: str
    filename: str
    type: str | None = None
    disposition: Literal["attachment", "inline"] = "attachment"
    content_id: str | None = None


class Asm(_Request):
    group_id: int
    groups_to_display: list[int] | None = None


class Toggle(_Request):
    enable: bool | None = None


class Footer(Toggle):
    text: str | None = None
    html: str | None = None


class MailSettings(_Request):
    bypass_list_management: Toggle | None = None
    bypass_spam_management: Toggle | None = None
    bypass_bounce_management: Toggle | None = None
    bypass_unsubscribe_management: Toggle | None = None
    footer: Footer | None = None
    sandbox_mode: Toggle | None = None


class ClickTracking(Toggle):
    enable_text: bool | None = None


class OpenTracking(Toggle):
    substitution_tag: str | None = None


class SubscriptionTracking(Toggle):
    text: str | None = None
    html: str | None = None
    substitution_tag: str | None = None


class Ganalytics(Toggle):
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    utm_campaign: str | None = None


class TrackingSettings(_Request):
    click_tracking: ClickTracking | None = None
    open_tracking: OpenTracking | None = None
    subscription_tracking: SubscriptionTracking | None = None
    ganalytics: Ganalytics | None = None


class MailSendRequest(_Request):
    """The body of ``POST /v3/mail/send``."""

    personalizations: list[Personalization]
    from_: EmailAddress = Field(alias="from")
    reply_to: EmailAddress | None = None
    reply_to_list: list[EmailAddress] | None = None
    subject: str | None = None
    content: list[Content] | None = None
    attachments: list[Attachment] | None = None
    template_id: str | None = None
    headers: dict[str, str] | None = None
    categories: list[str] | None = None
    custom_args: dict[str, str] | None = None
    send_at: int | None = None
    batch_id: str | None = None
    asm: Asm | None = None
    ip_pool_name: str | None = None
    mail_settings: MailSettings | None = None
    tracking_settings: TrackingSettings | None = None

    @property
    def sandbox_requested(self) -> bool:
        """``mail_settings.sandbox_mode.enable: true`` (docs/sending.md)."""
        mode = self.mail_settings.sandbox_mode if self.mail_settings else None
        return bool(mode and mode.enable)

    @property
    def needs_schedule_scope(self) -> bool:
        """``send_at`` (top level or in a personalization) and ``batch_id`` need ``mail.schedule`` (docs/sending.md)."""
        return (
            self.send_at is not None
            or self.batch_id is not None
            or any(p.send_at is not None for p in self.personalizations)
        )

    def stored_body(self) -> dict[str, Any]:
        """The request as JSON with SendGrid's names, without ``personalizations``: the ``send_requests.body``."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"personalizations"})


# --- responses -------------------------------------------------------------------------------------------------------
class BatchCreated(BaseModel):
    batch_id: str


class BatchStatus(BaseModel):
    """``GET /v3/mail/batch/{batch_id}``: SendGrid's ``batch_id`` plus the batch's state and how many of its
    messages are in each status (every status is listed, zeros included)."""

    batch_id: str
    status: Literal["active", "cancelled"]
    total: int
    counts: dict[str, int]
    created_at: datetime


class ScheduledSendRequest(_Request):
    """``POST /v3/user/scheduled_sends`` (SendGrid's cancel/pause of a batch)."""

    batch_id: str
    status: Literal["cancel", "pause"]


class ScheduledSend(BaseModel):
    batch_id: str
    status: str
