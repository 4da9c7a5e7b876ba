"""What an upload really is (D20): the bytes decide the type, not the declared ``Content-Type`` or the file
name. Pillow identifies JPEG, PNG, GIF and WebP, reads the dimensions from the header (refusing pixel floods before
anything is decoded) and makes the thumbnail, which decodes the whole image: a truncated or corrupt file is refused
at upload instead of failing later in someone's mail client.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

CONTENT_TYPES: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS: dict[str, str] = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
EXTENSION_BY_TYPE: dict[str, str] = {CONTENT_TYPES[f]: EXTENSIONS[f] for f in CONTENT_TYPES}
MAX_PIXELS = 40_000_000  # e.g. 8000 x 5000; a larger canvas is a decompression bomb, not an email image
THUMBNAIL_SIZE = (200, 200)


class InvalidImage(ValueError):
    """The bytes are not a JPEG, PNG, GIF or WebP image that decodes; the message says why."""


@dataclass(frozen=True)
class Inspected:
    format: str  # Pillow's name: JPEG, PNG, GIF, WEBP
    width: int
    height: int
    thumbnail: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def thumbnail_type(content_type: str) -> str:
    """Thumbnails keep JPEG and WebP; GIF and PNG thumbnails are PNG (a GIF's first frame)."""
    return content_type if content_type in ("image/jpeg", "image/webp") else "image/png"


def _thumbnail(image: Image.Image, image_format: str) -> bytes:
    image = ImageOps.exif_transpose(image) if image_format == "JPEG" else image
    image.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85)
    elif image_format == "WEBP":
        image.save(out, "WEBP", quality=85)
    else:
        image.convert("RGBA").save(out, "PNG", optimize=True)
    return out.getvalue()


def inspect(data: bytes) -> Inspected:
    """Identify, check and thumbnail ``data``; raises :class:`InvalidImage`."""
    try:
        with Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InvalidImage(f"Image is {width}x{height} pixels; at most {MAX_PIXELS:,} pixels are accepted")
            image_format = str(image.format)
            image.load()
            return Inspected(image_format, width, height, _thumbnail(image, image_format))
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise InvalidImage("File is not a JPEG, PNG, GIF or WebP image") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"Image could not be decoded: {exc}") from None
