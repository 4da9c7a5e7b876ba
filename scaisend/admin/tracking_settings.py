"""Tenant tracking defaults (docs/compose.md, docs/identity.md, docs/domains.md): the stored flat settings over :data:`DEFAULT_TRACKING`; a PUT
changes only the keys it sends. The compose stage deep-merges each request's ``tracking_settings`` over these."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.errors import BadRequestError
from scaisend.models import DEFAULT_TRACKING, TrackingSettings
from scaisend.tracking.config import tenant_tracking

IMAGE_EMBED_MODES = ("proxy", "cid")


def _check(updates: dict[str, Any]) -> None:
    unknown = sorted(set(updates) - set(DEFAULT_TRACKING))
    if unknown:
        raise BadRequestError(f"Unknown tracking setting(s): {', '.join(unknown)}")
    for key, value in updates.items():
        if key.endswith(("_enabled", "_enable_text")):
            if not isinstance(value, bool):
                raise BadRequestError(f"{key} must be true or false")
        elif key == "image_embed_mode":
            if value not in IMAGE_EMBED_MODES:
                raise BadRequestError(f"image_embed_mode must be one of: {', '.join(IMAGE_EMBED_MODES)}")
        elif value is not None and not isinstance(value, str):
            raise BadRequestError(f"{key} must be a string or null")


async def effective_defaults(session: AsyncSession, tenant_id: str) -> dict[str, Any]:
    return {**DEFAULT_TRACKING, **await tenant_tracking(session, tenant_id)}


async def update_defaults(session: AsyncSession, tenant_id: str, updates: dict[str, Any]) -> dict[str, Any]:
    _check(updates)
    row = await session.get(TrackingSettings, tenant_id)
    if row is None:
        row = TrackingSettings(tenant_id=tenant_id, settings={})
        session.add(row)
    row.settings = {**(row.settings or {}), **updates}
    await session.flush()
    return {**DEFAULT_TRACKING, **row.settings}
