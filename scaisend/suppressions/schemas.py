"""Request and response shapes of ``/v3/suppression/*`` and ``/v3/asm/*`` (docs/suppressions.md), with SendGrid's field names
(``tsg_suppressions_v3.json``). ``created`` is Unix seconds. Lists are ScaiSend's ``{"<list>": [...], "total": n}``
(docs/sending.md, D3, D24 limit/offset pagination), not SendGrid's bare array: docs/suppressions.md says why."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scaisend.models import AsmGroup, Suppression
from scaisend.suppressions.groups import GroupCounted, Membership
from scaisend.suppressions.service import ImportResult


def unix(row: Suppression) -> int:
    return int(row.created_at.timestamp())


# --- lists -----------------------------------------------------------------------------------------------------------
class BounceOut(BaseModel):
    email: str
    created: int
    reason: str | None
    bounce_type: str | None
    status: str | None

    @classmethod
    def of(cls, row: Suppression) -> BounceOut:
        return cls(
            email=row.email, created=unix(row), reason=row.reason, bounce_type=row.bounce_type, status=row.status
        )


class BlockOut(BaseModel):
    email: str
    created: int
    reason: str | None
    status: str | None

    @classmethod
    def of(cls, row: Suppression) -> BlockOut:
        return cls(email=row.email, created=unix(row), reason=row.reason, status=row.status)


class SpamReportOut(BaseModel):
    """SendGrid's item has ``ip`` (the sending IP); ScaiSend does not track it, so it is ``null``."""

    email: str
    created: int
    reason: str | None
    ip: str | None = None

    @classmethod
    def of(cls, row: Suppression) -> SpamReportOut:
        return cls(email=row.email, created=unix(row), reason=row.reason)


class UnsubscribeOut(BaseModel):
    email: str
    created: int

    @classmethod
    def of(cls, row: Suppression) -> UnsubscribeOut:
        return cls(email=row.email, created=unix(row))


class BouncePage(BaseModel):
    bounces: list[BounceOut]
    total: int


class BlockPage(BaseModel):
    blocks: list[BlockOut]
    total: int


class SpamReportPage(BaseModel):
    spam_reports: list[SpamReportOut]
    total: int


class UnsubscribePage(BaseModel):
    unsubscribes: list[UnsubscribeOut]
    total: int


class BounceCreate(BaseModel):
    email: str
    bounce_type: Literal["hard", "soft", "block"] = "hard"
    reason: str | None = Field(default=None, max_length=2000)
    status: str | None = Field(default=None, max_length=16)


class SpamReportCreate(BaseModel):
    email: str
    reason: str | None = Field(default=None, max_length=2000)


class BulkDelete(BaseModel):
    """SendGrid's DELETE body: ``{"delete_all": true}`` or ``{"emails": [...]}``, never both."""

    delete_all: bool | None = None
    emails: list[str] | None = None


class ImportErrorOut(BaseModel):
    row: int
    message: str


class ImportOut(BaseModel):
    imported: int
    skipped: int
    errors: list[ImportErrorOut]

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(
            imported=result.imported,
            skipped=result.skipped,
            errors=[ImportErrorOut(row=e.row, message=e.message) for e in result.errors],
        )


# --- ASM -------------------------------------------------------------------------------------------------------------
class RecipientEmails(BaseModel):
    recipient_emails: list[str] = Field(min_length=1)


class GlobalUnsubscribeOut(BaseModel):
    recipient_email: str


class GroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=30)
    description: str = Field(default="", max_length=100)
    is_default: bool = False


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")  # SendGrid's example PATCH body carries the group's ``id``

    name: str | None = Field(default=None, min_length=1, max_length=30)
    description: str | None = Field(default=None, max_length=100)
    is_default: bool | None = None


class GroupOut(BaseModel):
    id: int
    name: str
    description: str
    is_default: bool
    unsubscribes: int

    @classmethod
    def of(cls, group: AsmGroup, unsubscribes: int) -> GroupOut:
        return cls(
            id=group.id,
            name=group.name,
            description=group.description,
            is_default=group.is_default,
            unsubscribes=unsubscribes,
        )

    @classmethod
    def counted(cls, item: GroupCounted) -> GroupOut:
        return cls.of(item.group, item.unsubscribes)


class MembershipOut(BaseModel):
    email: str
    group_id: int
    group_name: str
    created_at: int

    @classmethod
    def of(cls, item: Membership) -> MembershipOut:
        return cls(
            email=item.email,
            group_id=item.group_id,
            group_name=item.group_name,
            created_at=int(item.created_at.timestamp()),
        )
