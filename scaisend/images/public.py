"""The public image proxy ``GET``/``HEAD /i/{image_id}`` (D20): no authentication, the original bytes (or
``?variant=thumbnail``) with ``Content-Type``, ``Content-Length``, ``Cache-Control: public, max-age=31536000,
immutable`` and an ``ETag`` (the content's SHA-256); ``If-None-Match`` answers 304; a deleted image answers
``410 Gone``, an unknown id 404."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.errors import NotFoundError
from scaisend.images import repository
from scaisend.images.service import ImageGone, served
from scaisend.images.storage import image_store
from scaisend.settings import Settings

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/i", tags=["images"])
CACHE_CONTROL = "public, max-age=31536000, immutable"


async def _serve(
    image_id: str, variant: str | None, request: Request, session: AsyncSession, settings: Settings
) -> Response:
    try:
        found = served(await repository.public_image(session, image_id), variant)
    except ImageGone:
        return JSONResponse({"detail": "Image deleted"}, status_code=status.HTTP_410_GONE)
    headers = {"ETag": found.etag, "Cache-Control": CACHE_CONTROL}
    if found.etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    data = await image_store(settings).get(found.storage_key)
    if data is None:
        logger.warning("image bytes missing from the store", extra={"image_id": image_id})
        raise NotFoundError("Image not found")
    headers["Content-Length"] = str(len(data))
    body = b"" if request.method == "HEAD" else data
    return Response(body, media_type=found.content_type, headers=headers)


@router.get("/{image_id}", response_class=Response)
async def get_image(
    image_id: str, request: Request, session: SessionDep, resources: ResourcesDep, variant: str | None = None
) -> Response:
    return await _serve(image_id, variant, request, session, resources.settings)


@router.head("/{image_id}", response_class=Response)
async def head_image(
    image_id: str, request: Request, session: SessionDep, resources: ResourcesDep, variant: str | None = None
) -> Response:
    """The headers of GET, without the body."""
    return await _serve(image_id, variant, request, session, resources.settings)
