"""Queries for templates and their versions (docs/templates.md). Every query takes the tenant id explicitly; versions have
no tenant column, so they are always reached through their template's tenant.

``for_update=True`` makes a locking read: on InnoDB it sees the latest committed rows rather than the transaction's
snapshot (taken earlier, when the request authenticated), and refreshes objects already in the session. Code that
changes versions reads them this way while holding the template row lock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import Template, TemplateVersion


async def get_template(
    session: AsyncSession, tenant_id: str, template_id: str, *, for_update: bool = False
) -> Template | None:
    stmt = select(Template).where(Template.id == template_id, Template.tenant_id == tenant_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def list_templates(
    session: AsyncSession, tenant_id: str, generations: Collection[str], *, offset: int, limit: int
) -> Sequence[Template]:
    stmt = (
        select(Template)
        .where(Template.tenant_id == tenant_id, Template.generation.in_(generations))
        .order_by(Template.created_at, Template.id)
        .offset(offset)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


async def count_templates(session: AsyncSession, tenant_id: str, generations: Collection[str]) -> int:
    stmt = (
        select(func.count())
        .select_from(Template)
        .where(Template.tenant_id == tenant_id, Template.generation.in_(generations))
    )
    return int(await session.scalar(stmt) or 0)


async def name_taken(session: AsyncSession, tenant_id: str, name: str, *, except_id: str | None = None) -> bool:
    stmt = select(Template.id).where(Template.tenant_id == tenant_id, Template.name == name)
    if except_id is not None:
        stmt = stmt.where(Template.id != except_id)
    return await session.scalar(stmt.limit(1)) is not None


async def names_like(session: AsyncSession, tenant_id: str, prefix: str) -> set[str]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(Template.name).where(Template.tenant_id == tenant_id, Template.name.like(f"{escaped}%", escape="\\"))
    return {name.casefold() for name in (await session.scalars(stmt)).all()}


def _locking(stmt: Select[TemplateVersion], for_update: bool) -> Select[TemplateVersion]:
    if not for_update:
        return stmt
    return stmt.with_for_update(of=TemplateVersion).execution_options(populate_existing=True)


async def versions_by_template(
    session: AsyncSession, tenant_id: str, template_ids: Collection[str], *, for_update: bool = False
) -> dict[str, list[TemplateVersion]]:
    """The versions of each template, oldest first (templates without versions are absent)."""
    if not template_ids:
        return {}
    stmt = _locking(
        select(TemplateVersion)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.tenant_id == tenant_id, TemplateVersion.template_id.in_(template_ids))
        .order_by(TemplateVersion.created_at, TemplateVersion.id),
        for_update,
    )
    grouped: dict[str, list[TemplateVersion]] = defaultdict(list)
    for version in (await session.scalars(stmt)).all():
        grouped[version.template_id].append(version)
    return grouped


async def get_version(
    session: AsyncSession, tenant_id: str, template_id: str, version_id: str, *, for_update: bool = False
) -> TemplateVersion | None:
    stmt = _locking(
        select(TemplateVersion)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.tenant_id == tenant_id, Template.id == template_id, TemplateVersion.id == version_id),
        for_update,
    )
    return await session.scalar(stmt)


async def get_active_version(session: AsyncSession, tenant_id: str, template_id: str) -> TemplateVersion | None:
    stmt = (
        select(TemplateVersion)
        .join(Template, Template.id == TemplateVersion.template_id)
        .where(Template.tenant_id == tenant_id, Template.id == template_id, TemplateVersion.active == 1)
        .order_by(TemplateVersion.updated_at.desc(), TemplateVersion.id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


async def delete_template(session: AsyncSession, tenant_id: str, template_id: str) -> None:
    """Delete a template and its versions (explicitly, not relying on the foreign key's cascade)."""
    owned = select(Template.id).where(Template.id == template_id, Template.tenant_id == tenant_id)
    await session.execute(
        delete(TemplateVersion)
        .where(TemplateVersion.template_id.in_(owned.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Template)
        .where(Template.id == template_id, Template.tenant_id == tenant_id)
        .execution_options(synchronize_session=False)
    )
