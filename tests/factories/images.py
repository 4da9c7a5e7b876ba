"""Real image files made with Pillow, and uploads through the API."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from tests.factories.tenants import TenantKey


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 480), color: str = "red") -> bytes:
    out = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG",) else "RGBA"
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    owner: TenantKey,
    data: bytes | None = None,
    *,
    filename: str = "logo.png",
    content_type: str = "image/png",
    **form: str,
) -> httpx.Response:
    files = {"file": (filename, data if data is not None else image_bytes(), content_type)}
    return await client.post("/v3/images", headers=owner.headers, files=files, data=form)


async def uploaded(client: httpx.AsyncClient, owner: TenantKey, **kwargs: Any) -> dict[str, Any]:
    response = await upload(client, owner, **kwargs)
    assert response.status_code == 201, response.text
    return dict(response.json())
