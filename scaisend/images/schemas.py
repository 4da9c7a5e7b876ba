"""Shapes of ``/v3/images`` (D20): ImageResponse, the list page, folders, and the PATCH body."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from scaisend.models import Image

MAX_ALT_TEXT = 1000
MAX_FOLDER = 255


class ImageResponse(BaseModel):
    id: str
    filename: str
    original_filename: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str
    thumbnail_url: str
    alt_text: str | None
    folder: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def build(cls, image: Image, base_url: str) -> ImageResponse:
        url = f"{base_url.rstrip('/')}/i/{image.id}"
        return cls(
            id=image.id,
            filename=image.filename,
            original_filename=image.original_filename,
            content_type=image.content_type,
            size=image.size,
            width=image.width,
            height=image.height,
            url=url,
            thumbnail_url=f"{url}?variant=thumbnail",
            alt_text=image.alt_text,
            folder=image.folder,
            created_at=image.created_at,
            updated_at=image.updated_at,
        )


class ImageList(BaseModel):
    result: list[ImageResponse]
    total: int
    page: int
    page_size: int


class FolderList(BaseModel):
    folders: list[str]


class ImageUpdate(BaseModel):
    """Either field may be sent; ``null`` or ``""`` clears it."""

    model_config = ConfigDict(extra="forbid")

    alt_text: str | None = Field(None, max_length=MAX_ALT_TEXT)
    folder: str | None = Field(None, max_length=MAX_FOLDER)
