"""``/api/admin/domains`` (docs/identity.md, docs/domains.md, docs/compose.md, D14): sender domains of the caller's tenant. Routes only; the service does
the work. API keys need ``domains.read`` to read and ``domains.write`` to add, verify, rotate, change or delete;
another tenant's domain id answers 404."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.auth.deps import DomainsRead, DomainsWrite
from scaisend.domains import service
from scaisend.domains.schemas import (
    DomainCreate,
    DomainEnvelope,
    DomainListEnvelope,
    DomainOut,
    DomainUpdate,
    DomainVerification,
    VerificationEnvelope,
)
from scaisend.models import SenderDomain
from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from scaisend.tenants import quotas

router = APIRouter(prefix="/api/admin/domains", tags=["domains"])


async def _out(session: AsyncSession, settings: Settings, row: SenderDomain) -> DomainEnvelope:
    return DomainEnvelope(data=DomainOut.build(row, await service.domain_keys(session, row), settings))


@router.post("", response_model=DomainEnvelope, status_code=status.HTTP_201_CREATED)
async def create_domain(
    body: DomainCreate, principal: DomainsWrite, session: SessionDep, resources: ResourcesDep
) -> DomainEnvelope:
    await quotas.require_domain_room(session, resources.settings, principal.tenant_id)
    row = await service.add_domain(
        session,
        resources.settings,
        principal.tenant_id,
        body.domain,
        dmarc_policy=body.dmarc_policy,
        dmarc_rua_email=body.dmarc_rua_email,
    )
    return await _out(session, resources.settings, row)


@router.get("", response_model=DomainListEnvelope)
async def list_domains(principal: DomainsRead, session: SessionDep, resources: ResourcesDep) -> DomainListEnvelope:
    rows = await service.list_domains(session, principal.tenant_id)
    keys = await service.keys_by_domain(session, [r.id for r in rows])
    return DomainListEnvelope(data=[DomainOut.build(r, keys[r.id], resources.settings) for r in rows])


@router.get("/{domain_id}", response_model=DomainEnvelope)
async def get_domain(
    domain_id: str, principal: DomainsRead, session: SessionDep, resources: ResourcesDep
) -> DomainEnvelope:
    row = await service.get_domain(session, principal.tenant_id, domain_id)
    return await _out(session, resources.settings, row)


@router.post("/{domain_id}/verify", response_model=VerificationEnvelope)
async def verify_domain(
    domain_id: str, principal: DomainsWrite, session: SessionDep, resources: ResourcesDep
) -> VerificationEnvelope:
    row = await service.get_domain(session, principal.tenant_id, domain_id)
    report = await service.verify_domain(
        session, resources.settings, make_resolver(resources.settings), row, resources.clock.now()
    )
    keys = await service.domain_keys(session, row)
    return VerificationEnvelope(data=DomainVerification.from_report(row, keys, resources.settings, report))


@router.post("/{domain_id}/rotate-dkim", response_model=DomainEnvelope)
async def rotate_dkim(
    domain_id: str, principal: DomainsWrite, session: SessionDep, resources: ResourcesDep
) -> DomainEnvelope:
    row = await service.get_domain(session, principal.tenant_id, domain_id)
    await service.rotate_dkim(session, resources.settings, row)
    return await _out(session, resources.settings, row)


@router.patch("/{domain_id}", response_model=DomainEnvelope)
async def update_domain(
    domain_id: str, body: DomainUpdate, principal: DomainsWrite, session: SessionDep, resources: ResourcesDep
) -> DomainEnvelope:
    row = await service.get_domain(session, principal.tenant_id, domain_id)
    rua = body.dmarc_rua_email if "dmarc_rua_email" in body.model_fields_set else service.KEEP
    await service.update_domain(
        session, row, is_active=body.is_active, dmarc_policy=body.dmarc_policy, dmarc_rua_email=rua
    )
    return await _out(session, resources.settings, row)


@router.delete("/{domain_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_domain(domain_id: str, principal: DomainsWrite, session: SessionDep) -> Response:
    row = await service.get_domain(session, principal.tenant_id, domain_id)
    await service.delete_domain(session, row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
