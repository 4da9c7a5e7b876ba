"""``/v3/templates`` and its versions (docs/templates.md, SendGrid's templates API). Routes only; the service does the work.

Scopes: ``templates.read`` for GET, ``templates.write`` for create, rename, duplicate, version changes and
activation, ``templates.delete`` for DELETE. Another tenant's template id answers 404 ``Template not found: <id>``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from scaisend.api.deps import SessionDep
from scaisend.auth.deps import TemplatesDelete, TemplatesRead, TemplatesWrite
from scaisend.errors import BadRequestError
from scaisend.templates import service
from scaisend.templates.schemas import (
    ListMetadata,
    TemplateCreate,
    TemplateDuplicate,
    TemplateLeanOut,
    TemplateList,
    TemplateOut,
    TemplateUpdate,
    VersionCreate,
    VersionList,
    VersionOut,
    VersionUpdate,
)

router = APIRouter(prefix="/v3/templates", tags=["templates"])
PAGE_SIZE_MAX = 200


def _generations(raw: str | None) -> list[str]:
    """SendGrid's ``generations=legacy,dynamic``; both when absent (SendGrid would return only legacy)."""
    if raw is None or not raw.strip():
        return list(service.GENERATIONS)
    wanted = [g.strip() for g in raw.split(",") if g.strip()]
    unknown = sorted(set(wanted) - set(service.GENERATIONS))
    if unknown:
        raise BadRequestError(f"Unknown generation: {', '.join(unknown)} (use legacy, dynamic or legacy,dynamic)")
    return wanted


def _offset(page_token: str | None) -> int:
    if page_token is None or page_token == "":
        return 0
    if not page_token.isdigit():
        raise BadRequestError("Invalid page_token")
    return int(page_token)


@router.get("", response_model=TemplateList)
async def list_templates(
    request: Request,
    principal: TemplatesRead,
    session: SessionDep,
    generations: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_MAX,
    page_token: str | None = None,
) -> TemplateList:
    kinds = _generations(generations)
    offset = _offset(page_token)
    rows, total = await service.list_templates(session, principal.tenant_id, kinds, offset=offset, limit=page_size)
    following = offset + page_size
    next_url = str(request.url.include_query_params(page_token=str(following))) if following < total else None
    return TemplateList(
        result=[TemplateLeanOut.build(t, v) for t, v in rows],
        metadata=ListMetadata(self=str(request.url), next=next_url, count=total),
    )


@router.post("", response_model=TemplateOut, status_code=status.HTTP_201_CREATED)
async def create_template(body: TemplateCreate, principal: TemplatesWrite, session: SessionDep) -> TemplateOut:
    row = await service.create_template(session, principal.tenant_id, name=body.name, generation=body.generation)
    return TemplateOut.build(row, [])


@router.get("/{template_id}", response_model=TemplateOut)
async def get_template(template_id: str, principal: TemplatesRead, session: SessionDep) -> TemplateOut:
    template = await service.get_template(session, principal.tenant_id, template_id)
    return TemplateOut.build(template, await service.versions_of(session, template))


@router.patch("/{template_id}", response_model=TemplateOut)
async def update_template(
    template_id: str, body: TemplateUpdate, principal: TemplatesWrite, session: SessionDep
) -> TemplateOut:
    template = await service.get_template(session, principal.tenant_id, template_id, for_update=True)
    await service.rename_template(session, template, body.name)
    return TemplateOut.build(template, await service.versions_of(session, template))


@router.post("/{template_id}", response_model=TemplateOut, status_code=status.HTTP_201_CREATED)
async def duplicate_template(
    template_id: str, principal: TemplatesWrite, session: SessionDep, body: TemplateDuplicate | None = None
) -> TemplateOut:
    template = await service.get_template(session, principal.tenant_id, template_id)
    copy = await service.duplicate_template(session, template, body.name if body else None)
    return TemplateOut.build(copy, await service.versions_of(session, copy))


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_template(template_id: str, principal: TemplatesDelete, session: SessionDep) -> Response:
    template = await service.get_template(session, principal.tenant_id, template_id, for_update=True)
    await service.delete_template(session, template)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{template_id}/versions", response_model=VersionList)
async def list_versions(template_id: str, principal: TemplatesRead, session: SessionDep) -> VersionList:
    template = await service.get_template(session, principal.tenant_id, template_id)
    return VersionList(result=[VersionOut.build(v) for v in await service.versions_of(session, template)])


@router.post("/{template_id}/versions", response_model=VersionOut, status_code=status.HTTP_201_CREATED)
async def create_version(
    template_id: str, body: VersionCreate, principal: TemplatesWrite, session: SessionDep
) -> VersionOut:
    template = await service.get_template(session, principal.tenant_id, template_id, for_update=True)
    return VersionOut.build(await service.create_version(session, template, body))


@router.get("/{template_id}/versions/{version_id}", response_model=VersionOut)
async def get_version(template_id: str, version_id: str, principal: TemplatesRead, session: SessionDep) -> VersionOut:
    template = await service.get_template(session, principal.tenant_id, template_id)
    return VersionOut.build(await service.get_version(session, template, version_id))


@router.patch("/{template_id}/versions/{version_id}", response_model=VersionOut)
async def update_version(
    template_id: str, version_id: str, body: VersionUpdate, principal: TemplatesWrite, session: SessionDep
) -> VersionOut:
    template = await service.get_template(session, principal.tenant_id, template_id, for_update=True)
    version = await service.get_version(session, template, version_id, for_update=True)
    return VersionOut.build(await service.update_version(session, template, version, body))


@router.delete("/{template_id}/versions/{version_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_version(
    template_id: str, version_id: str, principal: TemplatesDelete, session: SessionDep
) -> Response:
    template = await service.get_template(session, principal.tenant_id, template_id, for_update=True)
    version = await service.get_version(session, template, version_id, for_update=True)
    await service.delete_version(session, template, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{template_id}/versions/{version_id}/activate", response_model=VersionOut)
async def activate_version(
    template_id: str, version_id: str, principal: TemplatesWrite, session: SessionDep
) -> VersionOut:
    template = await service.get_template(session, principal.tenant_id, template_id, for_update=True)
    version = await service.get_version(session, template, version_id, for_update=True)
    return VersionOut.build(await service.activate_version(session, template, version))
