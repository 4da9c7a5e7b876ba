"""Request and response shapes of ``/api/admin/domains`` (docs/identity.md, docs/domains.md, docs/compose.md, D14). Responses wrap results in
``{"data": ...}``; field validation that the spec answers with 400 (DMARC policy, domain name) is done by the
service, so these models only check types."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from scaisend.domains.dns_records import records_to_publish
from scaisend.domains.verification import VerificationReport
from scaisend.models import DkimKey, SenderDomain
from scaisend.settings import Settings


class DomainCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str
    dmarc_policy: str = "none"
    dmarc_rua_email: str | None = None


class DomainUpdate(BaseModel):
    """Partial update; sending ``"dmarc_rua_email": null`` clears the address, leaving it out keeps it."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    dmarc_policy: str | None = None
    dmarc_rua_email: str | None = None


class DnsRecordOut(BaseModel):
    type: str
    host: str
    value: str
    purpose: str
    valid: bool


class DomainOut(BaseModel):
    id: str
    domain: str
    dmarc_policy: str
    dmarc_rua_email: str | None
    active_selector: str
    pending_selector: str | None
    dkim_verified: bool
    spf_verified: bool
    dmarc_verified: bool
    verified: bool
    is_active: bool
    last_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    dns_records: list[DnsRecordOut]

    @classmethod
    def build(cls, row: SenderDomain, keys: list[DkimKey], settings: Settings) -> DomainOut:
        pending = next((k.selector for k in keys if k.selector != row.active_selector), None)
        return cls(
            id=row.id,
            domain=row.domain,
            dmarc_policy=row.dmarc_policy,
            dmarc_rua_email=row.dmarc_rua_email,
            active_selector=row.active_selector,
            pending_selector=pending,
            dkim_verified=row.dkim_verified,
            spf_verified=row.spf_verified,
            dmarc_verified=row.dmarc_verified,
            verified=row.verified,
            is_active=row.is_active,
            last_verified_at=row.last_verified_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            dns_records=[
                DnsRecordOut.model_validate(r, from_attributes=True) for r in records_to_publish(row, keys, settings)
            ],
        )


class VerificationErrorOut(BaseModel):
    purpose: str
    host: str
    message: str


class DomainVerification(DomainOut):
    errors: list[VerificationErrorOut]

    @classmethod
    def from_report(
        cls, row: SenderDomain, keys: list[DkimKey], settings: Settings, report: VerificationReport
    ) -> DomainVerification:
        base = DomainOut.build(row, keys, settings)
        errors = [VerificationErrorOut(**check.as_error()) for check in report.errors]
        return cls(**base.model_dump(), errors=errors)


class DomainEnvelope(BaseModel):
    data: DomainOut


class DomainListEnvelope(BaseModel):
    data: list[DomainOut]


class VerificationEnvelope(BaseModel):
    data: DomainVerification
