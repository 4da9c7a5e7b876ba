"""``/v3/asm/*`` (docs/suppressions.md [INFERRED] routes; SendGrid ``tsg_suppressions_v3.json``): suppression groups, their
per-group unsubscribe lists and the global unsubscribe list. Routes only; the service does the work.

Scopes ``suppressions.read`` / ``suppressions.write``. Codes: reads 200, creates 201 (group, group and global
unsubscribes), group PATCH 200 (SendGrid documents 201; ScaiSend answers updates with 200, docs/sending.md, D3, D24), deletes 204.
A group or address the tenant does not have is 404; a duplicate group name is 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.auth.deps import SuppressionsRead, SuppressionsWrite
from scaisend.errors import NotFoundError
from scaisend.suppressions import endpoints, groups, service
from scaisend.suppressions.schemas import (
    GlobalUnsubscribeOut,
    GroupCreate,
    GroupOut,
    GroupUpdate,
    MembershipOut,
    RecipientEmails,
    UnsubscribePage,
)
from scaisend.suppressions.service import UNSUBSCRIBES

router = APIRouter(prefix="/v3/asm", tags=["suppressions"])


# --- groups ----------------------------------------------------------------------------------------------------------
@router.get("/groups", response_model=list[GroupOut])
async def list_groups(
    principal: SuppressionsRead, session: SessionDep, ids: Annotated[list[int] | None, Query(alias="id")] = None
) -> list[GroupOut]:
    return [GroupOut.counted(g) for g in await groups.list_groups(session, principal.tenant_id, ids)]


@router.post("/groups", response_model=GroupOut, status_code=status.HTTP_201_CREATED)
async def create_group(body: GroupCreate, principal: SuppressionsWrite, session: SessionDep) -> GroupOut:
    row = await groups.create_group(session, principal.tenant_id, body.name, body.description, body.is_default)
    return GroupOut.of(row, 0)


@router.get("/groups/{group_id}", response_model=GroupOut)
async def get_group(group_id: int, principal: SuppressionsRead, session: SessionDep) -> GroupOut:
    row = await groups.get_group(session, principal.tenant_id, group_id)
    return GroupOut.of(row, await groups.count_unsubscribes(session, row))


@router.patch("/groups/{group_id}", response_model=GroupOut)
async def update_group(group_id: int, body: GroupUpdate, principal: SuppressionsWrite, session: SessionDep) -> GroupOut:
    row = await groups.get_group(session, principal.tenant_id, group_id)
    await groups.update_group(session, row, name=body.name, description=body.description, is_default=body.is_default)
    return GroupOut.of(row, await groups.count_unsubscribes(session, row))


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(group_id: int, principal: SuppressionsWrite, session: SessionDep) -> Response:
    await groups.delete_group(session, await groups.get_group(session, principal.tenant_id, group_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- per-group unsubscribes ------------------------------------------------------------------------------------------
@router.get("/groups/{group_id}/suppressions", response_model=list[str])
async def list_group_suppressions(group_id: int, principal: SuppressionsRead, session: SessionDep) -> list[str]:
    return await groups.group_emails(session, await groups.get_group(session, principal.tenant_id, group_id))


@router.post("/groups/{group_id}/suppressions", response_model=RecipientEmails, status_code=status.HTTP_201_CREATED)
async def add_group_suppressions(
    group_id: int, body: RecipientEmails, principal: SuppressionsWrite, session: SessionDep, resources: ResourcesDep
) -> RecipientEmails:
    row = await groups.get_group(session, principal.tenant_id, group_id)
    emails = service.normalize_emails(body.recipient_emails)
    await groups.add_group_unsubscribes(session, row, emails, now=resources.clock.now())
    return RecipientEmails(recipient_emails=emails)


@router.post("/groups/{group_id}/suppressions/search", response_model=list[str])
async def search_group_suppressions(
    group_id: int, body: RecipientEmails, principal: SuppressionsRead, session: SessionDep
) -> list[str]:
    row = await groups.get_group(session, principal.tenant_id, group_id)
    return await groups.search_group(session, row, body.recipient_emails)


@router.delete("/groups/{group_id}/suppressions/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group_suppression(
    group_id: int, email: str, principal: SuppressionsWrite, session: SessionDep
) -> Response:
    row = await groups.get_group(session, principal.tenant_id, group_id)
    if not await groups.remove_group_unsubscribe(session, row, email):
        raise NotFoundError(f"Email not found in suppression group {group_id}: {email}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/suppressions", response_model=list[MembershipOut])
async def list_all_group_suppressions(principal: SuppressionsRead, session: SessionDep) -> list[MembershipOut]:
    return [MembershipOut.of(m) for m in await groups.memberships(session, principal.tenant_id)]


# --- global unsubscribes ---------------------------------------------------------------------------------------------
router.add_api_route(
    "/suppressions/global",
    endpoints.list_unsubscribes,
    methods=["GET"],
    response_model=UnsubscribePage,
    name="list_global_unsubscribes",
)


@router.post("/suppressions/global", response_model=RecipientEmails, status_code=status.HTTP_201_CREATED)
async def add_global_unsubscribes(
    body: RecipientEmails, principal: SuppressionsWrite, session: SessionDep, resources: ResourcesDep
) -> RecipientEmails:
    emails = service.normalize_emails(body.recipient_emails)
    await service.add_unsubscribes(session, principal.tenant_id, emails, now=resources.clock.now())
    return RecipientEmails(recipient_emails=emails)


@router.get("/suppressions/global/{email}", response_model=GlobalUnsubscribeOut)
async def get_global_unsubscribe(email: str, principal: SuppressionsRead, session: SessionDep) -> GlobalUnsubscribeOut:
    rows = await service.get_entries(session, principal.tenant_id, UNSUBSCRIBES, email)
    return GlobalUnsubscribeOut(recipient_email=rows[0].email)


@router.delete("/suppressions/global/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_global_unsubscribe(email: str, principal: SuppressionsWrite, session: SessionDep) -> Response:
    await service.delete_entry(session, principal.tenant_id, UNSUBSCRIBES, email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
