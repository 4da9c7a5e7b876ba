"""Queries of the images library. Tenant-facing queries take the tenant id; deleted images (``deleted_at``) are
invisible to them. Only :func:`public_image` (the ``/i/`` proxy, which knows no tenant) reads by id alone."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import Image


def _visible(tenant_id: str) -> Select[Image]:
    return select(Image).where(Image.tenant_id == tenant_id, Image.deleted_at.is_(None))


async def list_images(
    session: AsyncSession, tenant_id: str, *, folder: str | None, search: str | None, offset: int, limit: int
) -> tuple[Sequence[Image], int]:
    """One page, newest first, and the total that match. ``search`` is a substring of the file names or alt text
    (LIKE's wildcards escaped)."""
    stmt = _visible(tenant_id)
    if folder is not None:
        stmt = stmt.where(Image.folder == folder)
    if search:
        stmt = stmt.where(
            or_(
                Image.original_filename.contains(search, autoescape=True),
                Image.filename.contains(search, autoescape=True),
                Image.alt_text.contains(search, autoescape=True),
            )
        )
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(stmt.order_by(Image.created_at.desc(), Image.id.desc()).offset(offset).limit(limit))
    return rows.all(), int(total or 0)


async def folders(session: AsyncSession, tenant_id: str) -> list[str]:
    rows = await session.scalars(
        select(Image.folder)
        .where(Image.tenant_id == tenant_id, Image.deleted_at.is_(None), Image.folder.is_not(None))
        .distinct()
        .order_by(Image.folder)
    )
    return [f for f in rows.all() if f]


async def get_image(session: AsyncSession, tenant_id: str, image_id: str) -> Image | None:
    return await session.scalar(_visible(tenant_id).where(Image.id == image_id))


async def images_by_id(session: AsyncSession, tenant_id: str, image_ids: Sequence[str]) -> list[Image]:
    """The tenant's live images among ``image_ids`` (one query; compose's CID embedding)."""
    if not image_ids:
        return []
    return list((await session.scalars(_visible(tenant_id).where(Image.id.in_(list(image_ids))))).all())


async def public_image(session: AsyncSession, image_id: str) -> Image | None:
    """Any tenant's image by id, deleted ones included (they answer 410)."""
    return await session.get(Image, image_id)
