"""The images library's rules (D20): upload (the bytes decide the type; the thumbnail is made once, here),
rename/move, delete, and what the public proxy serves. Never commits: the endpoints do, and they delete the bytes of
a deleted image only after the commit that hides it.

Order at upload: bytes (image and thumbnail) are written to the store before the row is committed, so a committed
row always has its bytes; a commit that fails leaves unreferenced bytes behind, never a row without them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError, NotFoundError
from scaisend.ids import new_id
from scaisend.images import repository
from scaisend.images.content import InvalidImage, inspect, thumbnail_type
from scaisend.images.schemas import MAX_ALT_TEXT, MAX_FOLDER, ImageUpdate
from scaisend.images.storage import ImageStore
from scaisend.models import Image

THUMBNAIL = "thumbnail"


def thumbnail_key(storage_key: str) -> str:
    return f"{storage_key}.thumb"


def clean_filename(name: str | None) -> str:
    """The uploaded name without any folder part or control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] or "image"


def _optional(value: str | None, limit: int, name: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise BadRequestError(f"{name} must be at most {limit} characters")
    return text or None


async def upload(
    session: AsyncSession,
    store: ImageStore,
    tenant_id: str,
    *,
    data: bytes,
    filename: str | None,
    alt_text: str | None,
    folder: str | None,
    now: datetime,
) -> Image:
    """Check ``data``, store it with its thumbnail and stage the row; 400 when it is not a usable image."""
    alt = _optional(alt_text, MAX_ALT_TEXT, "alt_text")
    folder_name = _optional(folder, MAX_FOLDER, "folder")
    try:
        inspected = inspect(data)
    except InvalidImage as exc:
        raise BadRequestError(str(exc)) from None
    image_id = new_id("img")
    key = f"{tenant_id}/{image_id}"
    await store.put(key, data, inspected.content_type)
    await store.put(thumbnail_key(key), inspected.thumbnail, thumbnail_type(inspected.content_type))
    image = Image(
        id=image_id,
        tenant_id=tenant_id,
        filename=f"{image_id}.{inspected.extension}",
        original_filename=clean_filename(filename),
        content_type=inspected.content_type,
        size=len(data),
        width=inspected.width,
        height=inspected.height,
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        alt_text=alt,
        folder=folder_name,
        created_at=now,
        updated_at=now,
    )
    session.add(image)
    await session.flush()
    return image


async def get(session: AsyncSession, tenant_id: str, image_id: str) -> Image:
    image = await repository.get_image(session, tenant_id, image_id)
    if image is None:
        raise NotFoundError(f"Image not found: {image_id}")
    return image


async def update(session: AsyncSession, tenant_id: str, image_id: str, body: ImageUpdate, now: datetime) -> Image:
    """Only the fields the body names change."""
    image = await get(session, tenant_id, image_id)
    sent = body.model_fields_set
    if "alt_text" in sent:
        image.alt_text = _optional(body.alt_text, MAX_ALT_TEXT, "alt_text")
    if "folder" in sent:
        image.folder = _optional(body.folder, MAX_FOLDER, "folder")
    image.updated_at = now
    await session.flush()
    return image


async def delete(session: AsyncSession, tenant_id: str, image_id: str, now: datetime) -> list[str]:
    """Hide the image (the row stays, so ``/i/`` can answer 410); the storage keys to delete after the commit."""
    image = await get(session, tenant_id, image_id)
    image.deleted_at = now
    image.updated_at = now
    await session.flush()
    return [image.storage_key, thumbnail_key(image.storage_key)]


@dataclass(frozen=True)
class Served:
    """What ``/i/{image_id}`` answers with."""

    content_type: str
    etag: str
    storage_key: str


class ImageGone(Exception):
    """The image was deleted: 410."""


def served(image: Image | None, variant: str | None) -> Served:
    """The representation of ``image`` to serve; :class:`NotFoundError` for no image or an unknown variant,
    :class:`ImageGone` after deletion."""
    if image is None:
        raise NotFoundError("Image not found")
    if variant not in (None, "", THUMBNAIL):
        raise BadRequestError(f"Unknown variant: {variant} (use {THUMBNAIL})")
    if image.deleted_at is not None:
        raise ImageGone()
    if variant == THUMBNAIL:
        return Served(thumbnail_type(image.content_type), f'"{image.sha256}-thumb"', thumbnail_key(image.storage_key))
    return Served(image.content_type, f'"{image.sha256}"', image.storage_key)
