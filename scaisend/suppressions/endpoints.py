"""``/v3/suppression/*`` (docs/suppressions.md; SendGrid ``tsg_suppressions_v3.json``): the bounce list, SendGrid's blocks view
of it (``bounce_type: block``), spam reports and the global unsubscribe list. Routes only; the service does the work.

Scopes ``suppressions.read`` (lists, lookups) and ``suppressions.write`` (add, import, delete). Codes: list/get 200,
add 201, import 200, delete 204; an address not on the list is 404; a bulk DELETE needs ``delete_all=true`` (query
string or JSON body) or ``{"emails": [...]}``, else 400 (the sendgrid client sends JSON bodies on DELETE, docs/stats.md, D5, D9).
Lists answer CSV instead of JSON when the request's ``Accept`` asks for ``text/csv``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.api.deps import MAX_OFFSET, MAX_UNIX_TIME, ResourcesDep, SessionDep
from scaisend.auth.deps import SuppressionsRead, SuppressionsWrite
from scaisend.errors import ScaiSendError
from scaisend.suppressions import csv_import, service
from scaisend.suppressions.schemas import (
    BlockOut,
    BlockPage,
    BounceCreate,
    BounceOut,
    BouncePage,
    BulkDelete,
    ImportOut,
    SpamReportCreate,
    SpamReportOut,
    SpamReportPage,
    UnsubscribeOut,
    UnsubscribePage,
)
from scaisend.suppressions.service import BLOCKS, BOUNCES, SPAM_REPORTS, UNSUBSCRIBES, ListQuery, ListView

router = APIRouter(prefix="/v3/suppression", tags=["suppressions"])

_BULK_DELETE_BODY: dict[str, Any] = {
    "requestBody": {"required": False, "content": {"application/json": {"schema": BulkDelete.model_json_schema()}}}
}
_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}, "example": "email,reason\nuser@example.com,migrated\n"}},
    }
}


def list_query(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    start_time: Annotated[int | None, Query(ge=0, le=MAX_UNIX_TIME)] = None,
    end_time: Annotated[int | None, Query(ge=0, le=MAX_UNIX_TIME)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> ListQuery:
    return ListQuery(limit=limit, offset=offset, start_time=start_time, end_time=end_time, email=email)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]
DeleteAllQuery = Annotated[bool | None, Query()]


# --- shared route bodies ---------------------------------------------------------------------------------------------
def _csv(items: Sequence[BaseModel], columns: list[str]) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(item.model_dump() for item in items)
    return Response(out.getvalue(), media_type="text/csv")


async def _page(
    request: Request,
    session: AsyncSession,
    tenant_id: str,
    view: ListView,
    query: ListQuery,
    page: type[BaseModel],
    item: Any,
) -> BaseModel | Response:
    rows, total = await service.list_entries(session, tenant_id, view, query)
    items = [item.of(r) for r in rows]
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(items, list(item.model_fields))
    return page.model_validate({view.name: items, "total": total})


async def _bulk_delete_body(request: Request) -> BulkDelete:
    raw = await request.body()
    if not raw.strip():
        return BulkDelete()
    try:
        return BulkDelete.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)], body=raw
        ) from None


async def _bulk_delete(
    request: Request, session: AsyncSession, tenant_id: str, view: ListView, delete_all: bool | None
) -> Response:
    body = await _bulk_delete_body(request)
    emails = service.bulk_delete_target(delete_all, body.delete_all, body.emails)
    await service.bulk_delete(session, tenant_id, view, emails)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _delete_one(session: AsyncSession, tenant_id: str, view: ListView, email: str) -> Response:
    await service.delete_entry(session, tenant_id, view, email)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _import(
    request: Request, session: AsyncSession, resources: ResourcesDep, tenant_id: str, view: ListView
) -> ImportOut:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "text/csv":
        raise ScaiSendError("Content-Type must be text/csv", status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    parsed = csv_import.parse_csv(csv_import.decode(await request.body()))
    result = await service.import_rows(session, tenant_id, view, parsed, now=resources.clock.now())
    return ImportOut.of(result)


# --- bounces ---------------------------------------------------------------------------------------------------------
@router.get("/bounces", response_model=BouncePage)
async def list_bounces(
    request: Request, query: ListQueryDep, principal: SuppressionsRead, session: SessionDep
) -> BaseModel | Response:
    return await _page(request, session, principal.tenant_id, BOUNCES, query, BouncePage, BounceOut)


@router.post("/bounces", response_model=BounceOut, status_code=status.HTTP_201_CREATED)
async def add_bounce(
    body: BounceCreate, principal: SuppressionsWrite, session: SessionDep, resources: ResourcesDep
) -> BounceOut:
    row = await service.add_bounce(
        session,
        principal.tenant_id,
        service.normalize_email(body.email),
        body.reason,
        body.bounce_type,
        body.status,
        None,
        now=resources.clock.now(),
    )
    return BounceOut.of(row)


@router.post("/bounces/import", response_model=ImportOut, openapi_extra=_CSV_BODY)
async def import_bounces(
    request: Request, principal: SuppressionsWrite, session: SessionDep, resources: ResourcesDep
) -> ImportOut:
    return await _import(request, session, resources, principal.tenant_id, BOUNCES)


@router.delete("/bounces", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=_BULK_DELETE_BODY)
async def delete_bounces(
    request: Request, principal: SuppressionsWrite, session: SessionDep, delete_all: DeleteAllQuery = None
) -> Response:
    return await _bulk_delete(request, session, principal.tenant_id, BOUNCES, delete_all)


@router.get("/bounces/{email}", response_model=list[BounceOut])
async def get_bounce(email: str, principal: SuppressionsRead, session: SessionDep) -> list[BounceOut]:
    return [BounceOut.of(r) for r in await service.get_entries(session, principal.tenant_id, BOUNCES, email)]


@router.delete("/bounces/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_bounce(email: str, principal: SuppressionsWrite, session: SessionDep) -> Response:
    return await _delete_one(session, principal.tenant_id, BOUNCES, email)


# --- blocks: the bounce rows with bounce_type "block" ----------------------------------------------------------------
@router.get("/blocks", response_model=BlockPage)
async def list_blocks(
    request: Request, query: ListQueryDep, principal: SuppressionsRead, session: SessionDep
) -> BaseModel | Response:
    return await _page(request, session, principal.tenant_id, BLOCKS, query, BlockPage, BlockOut)


@router.delete("/blocks", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=_BULK_DELETE_BODY)
async def delete_blocks(
    request: Request, principal: SuppressionsWrite, session: SessionDep, delete_all: DeleteAllQuery = None
) -> Response:
    return await _bulk_delete(request, session, principal.tenant_id, BLOCKS, delete_all)


@router.get("/blocks/{email}", response_model=list[BlockOut])
async def get_block(email: str, principal: SuppressionsRead, session: SessionDep) -> list[BlockOut]:
    return [BlockOut.of(r) for r in await service.get_entries(session, principal.tenant_id, BLOCKS, email)]


@router.delete("/blocks/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_block(email: str, principal: SuppressionsWrite, session: SessionDep) -> Response:
    return await _delete_one(session, principal.tenant_id, BLOCKS, email)


# --- spam reports ----------------------------------------------------------------------------------------------------
@router.get("/spam_reports", response_model=SpamReportPage)
async def list_spam_reports(
    request: Request, query: ListQueryDep, principal: SuppressionsRead, session: SessionDep
) -> BaseModel | Response:
    return await _page(request, session, principal.tenant_id, SPAM_REPORTS, query, SpamReportPage, SpamReportOut)


@router.post("/spam_reports", response_model=SpamReportOut, status_code=status.HTTP_201_CREATED)
async def add_spam_report(
    body: SpamReportCreate, principal: SuppressionsWrite, session: SessionDep, resources: ResourcesDep
) -> SpamReportOut:
    email = service.normalize_email(body.email)
    await service.add_spam_report(session, principal.tenant_id, email, body.reason, now=resources.clock.now())
    rows = await service.get_entries(session, principal.tenant_id, SPAM_REPORTS, email)
    return SpamReportOut.of(rows[0])


@router.post("/spam_reports/import", response_model=ImportOut, openapi_extra=_CSV_BODY)
async def import_spam_reports(
    request: Request, principal: SuppressionsWrite, session: SessionDep, resources: ResourcesDep
) -> ImportOut:
    return await _import(request, session, resources, principal.tenant_id, SPAM_REPORTS)


@router.delete("/spam_reports", status_code=status.HTTP_204_NO_CONTENT, openapi_extra=_BULK_DELETE_BODY)
async def delete_spam_reports(
    request: Request, principal: SuppressionsWrite, session: SessionDep, delete_all: DeleteAllQuery = None
) -> Response:
    return await _bulk_delete(request, session, principal.tenant_id, SPAM_REPORTS, delete_all)


@router.get("/spam_reports/{email}", response_model=list[SpamReportOut])
async def get_spam_report(email: str, principal: SuppressionsRead, session: SessionDep) -> list[SpamReportOut]:
    rows = await service.get_entries(session, principal.tenant_id, SPAM_REPORTS, email)
    return [SpamReportOut.of(r) for r in rows]


@router.delete("/spam_reports/{email}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_spam_report(email: str, principal: SuppressionsWrite, session: SessionDep) -> Response:
    return await _delete_one(session, principal.tenant_id, SPAM_REPORTS, email)


# --- global unsubscribes (managed through /v3/asm/suppressions/global) ------------------------------------------------
@router.get("/unsubscribes", response_model=UnsubscribePage)
async def list_unsubscribes(
    request: Request, query: ListQueryDep, principal: SuppressionsRead, session: SessionDep
) -> BaseModel | Response:
    return await _page(request, session, principal.tenant_id, UNSUBSCRIBES, query, UnsubscribePage, UnsubscribeOut)
