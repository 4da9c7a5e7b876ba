"""Templates and versions (docs/templates.md, D15): the logic behind ``/v3/templates``; functions flush, never commit.

Decisions (docs/templates.md): template names are unique per tenant (409 otherwise); the first version of a template
becomes active whatever it asks for, later ones only with ``active: 1``; exactly one version is active, and
activating one deactivates the others in the same transaction (the template row is locked while its versions
change); the active version can be neither deleted nor deactivated (400: activate another first). Dynamic template
parts are parsed at save time and a syntax error is a 400 naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from uuid import uuid4

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.clock import utcnow
from scaisend.errors import BadRequestError, ConflictError, NotFoundError
from scaisend.ids import new_id
from scaisend.models import Template, TemplateVersion
from scaisend.templates import repository
from scaisend.templates.renderer import TemplateRenderError, check_syntax
from scaisend.templates.schemas import TEMPLATE_NAME_MAX, VersionCreate, VersionUpdate

logger = logging.getLogger(__name__)

GENERATIONS = ("dynamic", "legacy")
CHECKED_FIELDS = ("subject", "preheader", "html_content", "plain_content")


def new_template_id(generation: str) -> str:
    """``d-`` + 32 hex for dynamic templates (SendGrid's form); a UUID, as SendGrid gives, for legacy ones."""
    return new_id("d") if generation == "dynamic" else str(uuid4())


# --- templates -------------------------------------------------------------------------------------------------------
async def get_template(
    session: AsyncSession, tenant_id: str, template_id: str, *, for_update: bool = False
) -> Template:
    row = await repository.get_template(session, tenant_id, template_id, for_update=for_update)
    if row is None:
        raise NotFoundError(f"Template not found: {template_id}")
    return row


async def list_templates(
    session: AsyncSession, tenant_id: str, generations: Collection[str], *, offset: int, limit: int
) -> tuple[list[tuple[Template, list[TemplateVersion]]], int]:
    """One page of templates with their versions, and the total count."""
    rows = await repository.list_templates(session, tenant_id, generations, offset=offset, limit=limit)
    versions = await repository.versions_by_template(session, tenant_id, [r.id for r in rows])
    total = await repository.count_templates(session, tenant_id, generations)
    return [(r, versions.get(r.id, [])) for r in rows], total


async def versions_of(session: AsyncSession, template: Template, *, for_update: bool = False) -> list[TemplateVersion]:
    """The versions of ``template``, oldest first; ``for_update`` for the latest committed state, locked."""
    grouped = await repository.versions_by_template(session, template.tenant_id, [template.id], for_update=for_update)
    return grouped.get(template.id, [])


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the name between our check and the insert
        raise ConflictError(f"A template named {name!r} already exists") from exc


async def _check_name_free(session: AsyncSession, tenant_id: str, name: str, except_id: str | None = None) -> None:
    if await repository.name_taken(session, tenant_id, name, except_id=except_id):
        raise ConflictError(f"A template named {name!r} already exists")


async def create_template(session: AsyncSession, tenant_id: str, *, name: str, generation: str) -> Template:
    await _check_name_free(session, tenant_id, name)
    row = Template(id=new_template_id(generation), tenant_id=tenant_id, name=name, generation=generation)
    session.add(row)
    await _flush_unique(session, name)
    logger.info("template created", extra={"template_id": row.id, "generation": generation})
    return row


async def rename_template(session: AsyncSession, template: Template, name: str) -> Template:
    if name != template.name:
        await _check_name_free(session, template.tenant_id, name, except_id=template.id)
        template.name = name
        await _flush_unique(session, name)
    return template


async def delete_template(session: AsyncSession, template: Template) -> None:
    await repository.delete_template(session, template.tenant_id, template.id)
    logger.info("template deleted", extra={"template_id": template.id})


async def _copy_name(session: AsyncSession, template: Template) -> str:
    base = f"{template.name} copy"[:TEMPLATE_NAME_MAX]
    taken = await repository.names_like(session, template.tenant_id, base)
    candidate, number = base, 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" {number}"
        candidate = base[: TEMPLATE_NAME_MAX - len(suffix)] + suffix
    return candidate


async def duplicate_template(session: AsyncSession, template: Template, name: str | None) -> Template:
    """A new template (same generation, new id) with copies of every version; the active one stays active."""
    copy = await create_template(
        session, template.tenant_id, name=name or await _copy_name(session, template), generation=template.generation
    )
    for version in await versions_of(session, template):
        session.add(
            TemplateVersion(
                id=new_id("v"),
                template_id=copy.id,
                name=version.name,
                subject=version.subject,
                preheader=version.preheader,
                html_content=version.html_content,
                plain_content=version.plain_content,
                editor=version.editor,
                active=version.active,
            )
        )
    await session.flush()
    return copy


# --- versions --------------------------------------------------------------------------------------------------------
def _check_parts(template: Template, values: dict[str, str | None]) -> None:
    """Dynamic templates must parse: a syntax error is a 400 naming the field."""
    if template.generation != "dynamic":
        return
    for field in CHECKED_FIELDS:
        source = values.get(field)
        if source:
            try:
                check_syntax(source)
            except TemplateRenderError as exc:
                raise BadRequestError(f"Template syntax error in {field}: {exc.reason}") from exc


async def get_version(
    session: AsyncSession, template: Template, version_id: str, *, for_update: bool = False
) -> TemplateVersion:
    row = await repository.get_version(session, template.tenant_id, template.id, version_id, for_update=for_update)
    if row is None:
        raise NotFoundError(f"Template version not found: {version_id}")
    return row


async def _activate(session: AsyncSession, template: Template, version: TemplateVersion) -> None:
    """Make ``version`` the only active version of ``template`` (the caller holds the template row lock)."""
    for other in await versions_of(session, template, for_update=True):
        other.active = 1 if other.id == version.id else 0
    version.active = 1
    template.updated_at = utcnow()


async def create_version(session: AsyncSession, template: Template, body: VersionCreate) -> TemplateVersion:
    generate = body.generate_plain_content if body.generate_plain_content is not None else body.plain_content is None
    plain = None if generate else (body.plain_content or "")
    _check_parts(
        template,
        {
            "subject": body.subject,
            "preheader": body.preheader,
            "html_content": body.html_content,
            "plain_content": plain,
        },
    )
    existing = await versions_of(session, template, for_update=True)
    row = TemplateVersion(
        id=new_id("v"),
        template_id=template.id,
        name=body.name,
        subject=body.subject,
        preheader=body.preheader,
        html_content=body.html_content,
        plain_content=plain,
        editor=body.editor,
        active=0,
    )
    session.add(row)
    await session.flush()
    if body.active == 1 or not existing:
        await _activate(session, template, row)
    template.updated_at = utcnow()
    await session.flush()
    return row


def _plain_after_update(version: TemplateVersion, body: VersionUpdate) -> str | None:
    fields = body.model_fields_set
    if "generate_plain_content" in fields and body.generate_plain_content is not None:
        if body.generate_plain_content:
            return None
        if "plain_content" in fields and body.plain_content is not None:
            return body.plain_content
        return version.plain_content if version.plain_content is not None else ""
    if "plain_content" in fields:
        return body.plain_content  # a string fixes the text; null goes back to generating it
    return version.plain_content


async def update_version(
    session: AsyncSession, template: Template, version: TemplateVersion, body: VersionUpdate
) -> TemplateVersion:
    fields = body.model_fields_set
    if body.active == 0 and version.active == 1:
        raise BadRequestError("Cannot deactivate the active version; activate another version instead")
    values = {
        f: getattr(body, f) if f in fields else getattr(version, f) for f in ("subject", "preheader", "html_content")
    }
    values["plain_content"] = _plain_after_update(version, body)
    _check_parts(template, values)
    for field, value in values.items():
        setattr(version, field, value)
    if body.name is not None:
        version.name = body.name
    if body.editor is not None:
        version.editor = body.editor
    version.updated_at = utcnow()
    if body.active == 1 and version.active != 1:
        await _activate(session, template, version)
    template.updated_at = utcnow()
    await session.flush()
    return version


async def activate_version(session: AsyncSession, template: Template, version: TemplateVersion) -> TemplateVersion:
    if version.active != 1:
        await _activate(session, template, version)
        version.updated_at = utcnow()
        await session.flush()
    return version


async def delete_version(session: AsyncSession, template: Template, version: TemplateVersion) -> None:
    if version.active == 1:
        raise BadRequestError("Cannot delete the active version of a template; activate another version first")
    await session.delete(version)
    template.updated_at = utcnow()
    await session.flush()


# --- for the send pipeline -------------------------------------------------------------------------------------------
async def active_version(
    session: AsyncSession, tenant_id: str, template_id: str
) -> tuple[Template, TemplateVersion] | None:
    """The template and its active version, or None when the template is not the tenant's (or deleted) or has no
    active version. The caller checks ``template.generation`` (sending needs ``dynamic``)."""
    template = await repository.get_template(session, tenant_id, template_id)
    if template is None:
        return None
    version = await repository.get_active_version(session, tenant_id, template_id)
    return None if version is None else (template, version)
