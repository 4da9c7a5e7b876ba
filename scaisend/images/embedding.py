"""CID embedding of library images at compose (docs/architecture.md, docs/compose.md, docs/delivery.md, D21 step 3 ``image_embed_mode``).

In ``proxy`` mode (the default) nothing changes: the HTML points at ``<PUBLIC_BASE_URL>/i/<image_id>`` and mail
clients fetch the image from the proxy. In ``cid`` mode every ``src`` that names one of the tenant's live library
images by that URL (``?variant=thumbnail`` included) becomes ``cid:<image_id>`` (``…-thumb`` for the thumbnail) and
the bytes travel in the message as inline parts, so the mail shows its images without fetching anything and
deleting the image later changes nothing for mail already sent.

Bounds: at most :data:`MAX_IMAGES` distinct images and :data:`MAX_BYTES` in all per message; references past either
bound, to unknown or deleted images or to another tenant's images keep their proxy URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.compose.mime import Attachment
from scaisend.images import repository
from scaisend.images.content import EXTENSION_BY_TYPE, thumbnail_type
from scaisend.images.service import THUMBNAIL, thumbnail_key
from scaisend.images.storage import ImageStore

MAX_IMAGES = 20
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Embedded:
    html: str
    attachments: list[Attachment]


def _pattern(base_url: str) -> re.Pattern[str]:
    """``src="<base>/i/img_…[?variant=thumbnail]"`` with either quote; linear (no nested repetition)."""
    return re.compile(
        r"""(?P<attr>\bsrc\s*=\s*)(?P<q>["'])"""
        + re.escape(base_url.rstrip("/"))
        + r"""/i/(?P<id>img_[0-9A-Za-z]{1,40})(?:\?variant=(?P<variant>thumbnail))?(?P=q)""",
        re.IGNORECASE,
    )


def _references(pattern: re.Pattern[str], html: str) -> list[tuple[str, bool]]:
    """Distinct ``(image_id, thumbnail)`` pairs in order of first use."""
    return list(dict.fromkeys((m["id"], bool(m["variant"])) for m in pattern.finditer(html)))


def _content_id(image_id: str, thumbnail: bool) -> str:
    return f"{image_id}-thumb" if thumbnail else image_id


async def embed_images(session: AsyncSession, store: ImageStore, tenant_id: str, base_url: str, html: str) -> Embedded:
    """``html`` with the tenant's library images as ``cid:`` references, and their inline parts."""
    pattern = _pattern(base_url)
    wanted = _references(pattern, html)[:MAX_IMAGES]
    images = {i.id: i for i in await repository.images_by_id(session, tenant_id, sorted({i for i, _ in wanted}))}
    attachments: list[Attachment] = []
    embedded: set[tuple[str, bool]] = set()
    total = 0
    for image_id, thumb in wanted:
        image = images.get(image_id)
        if image is None:
            continue
        data = await store.get(thumbnail_key(image.storage_key) if thumb else image.storage_key)
        if data is None or total + len(data) > MAX_BYTES:
            continue
        total += len(data)
        embedded.add((image_id, thumb))
        attachments.append(_part(image.id, image.content_type, data, thumb))
    if not embedded:
        return Embedded(html, [])

    def replace(match: re.Match[str]) -> str:
        key = (match["id"], bool(match["variant"]))
        if key not in embedded:
            return match.group(0)
        return f"{match['attr']}{match['q']}cid:{_content_id(*key)}{match['q']}"

    return Embedded(pattern.sub(replace, html), attachments)


def _part(image_id: str, content_type: str, data: bytes, thumbnail: bool) -> Attachment:
    kind = thumbnail_type(content_type) if thumbnail else content_type
    suffix = f"-{THUMBNAIL}" if thumbnail else ""
    return Attachment(
        content=data,
        filename=f"{image_id}{suffix}.{EXTENSION_BY_TYPE[kind]}",
        content_type=kind,
        disposition="inline",
        content_id=_content_id(image_id, thumbnail),
    )
