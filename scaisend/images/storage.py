"""Where image bytes live (D20), behind one small interface: a local folder (``IMAGE_STORE=filesystem``, the
default, for dev and single hosts) or an S3-compatible bucket (``IMAGE_STORE=s3``: AWS S3, MinIO, Garage; what the
deploy bundle uses, so every API and worker replica sees the same bytes).

Keys are made by the service (``<tenant_id>/<image_id>``, ``…/<image_id>.thumb``), never from user input.
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from scaisend.settings import Settings


class ImageStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, ``None`` when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...


class FilesystemStore:
    """Files under ``root``; a write goes to a temporary file first and is renamed into place, so a reader never
    sees half an image."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"image key outside the store: {key!r}")
        return path

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)


class S3Store:
    """Objects under ``prefix`` in ``bucket``; boto3's blocking client runs in a worker thread."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        import boto3  # type: ignore[import-untyped]  # imported here: only installations on S3 pay for loading it

        client = boto3.client(
            "s3",
            endpoint_url=settings.IMAGE_S3_ENDPOINT_URL or None,
            region_name=settings.IMAGE_S3_REGION,
            aws_access_key_id=settings.IMAGE_S3_ACCESS_KEY_ID or None,
            aws_secret_access_key=settings.IMAGE_S3_SECRET_ACCESS_KEY or None,
        )
        return cls(client, settings.IMAGE_S3_BUCKET, settings.IMAGE_S3_PREFIX)

    def _get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self.prefix + key)


@functools.cache
def image_store(settings: Settings) -> ImageStore:
    """The process's store for ``settings`` (one per settings object, made on first use)."""
    if settings.IMAGE_STORE == "s3":
        return S3Store.from_settings(settings)
    return FilesystemStore(settings.IMAGE_STORE_PATH)
