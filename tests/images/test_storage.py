"""The two image stores behind one interface (D20): a folder and an S3-compatible bucket (moto's S3 server on
loopback), and the API running on the S3 store end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from scaisend.api.app import create_app
from scaisend.images.storage import FilesystemStore, ImageStore, S3Store
from scaisend.settings import Settings
from tests.factories.images import image_bytes, uploaded
from tests.factories.tenants import make_tenant
from tests.harness.s3 import ACCESS_KEY, REGION, SECRET_KEY, s3_client


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ImageStore:
    if request.param == "filesystem":
        return FilesystemStore(tmp_path / "images")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Store(s3_client(endpoint), request.getfixturevalue("s3_bucket"), "images/")


class TestStores:
    async def test_put_get_delete(self, store: ImageStore) -> None:
        assert await store.get("tnt_a/img_1") is None
        await store.put("tnt_a/img_1", b"\x89PNG bytes", "image/png")
        await store.put("tnt_a/img_1.thumb", b"thumb", "image/png")
        assert await store.get("tnt_a/img_1") == b"\x89PNG bytes"
        await store.put("tnt_a/img_1", b"replaced", "image/png")
        assert await store.get("tnt_a/img_1") == b"replaced"
        await store.delete("tnt_a/img_1")
        assert await store.get("tnt_a/img_1") is None
        assert await store.get("tnt_a/img_1.thumb") == b"thumb"
        await store.delete("tnt_a/img_1")  # deleting what is gone is not an error

    async def test_the_folder_store_never_leaves_its_root(self, tmp_path: Path) -> None:
        store = FilesystemStore(tmp_path / "images")
        with pytest.raises(ValueError, match="outside the store"):
            await store.put("../escape", b"x", "image/png")
        assert not (tmp_path / "escape").exists()


@pytest.fixture
async def s3_client_app(database: Settings, s3_endpoint: str, s3_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = database.model_copy(
        update={
            "IMAGE_STORE": "s3",
            "IMAGE_S3_BUCKET": s3_bucket,
            "IMAGE_S3_ENDPOINT_URL": s3_endpoint,
            "IMAGE_S3_REGION": REGION,
            "IMAGE_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "IMAGE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "IMAGE_S3_PREFIX": "lib/",
        }
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await app.state.resources.aclose()


class TestApiOnS3:
    async def test_upload_serve_and_delete_go_through_the_bucket(
        self, s3_client_app: httpx.AsyncClient, s3_endpoint: str, s3_bucket: str
    ) -> None:
        owner = await make_tenant(s3_client_app.app.state.resources.maker)  # type: ignore[attr-defined]
        data = image_bytes("PNG", (300, 300))
        image = await uploaded(s3_client_app, owner, data=data)
        key = f"lib/{owner.tenant_id}/{image['id']}"
        bucket = s3_client(s3_endpoint)
        stored = bucket.get_object(Bucket=s3_bucket, Key=key)
        assert stored["Body"].read() == data
        assert stored["ContentType"] == "image/png"
        assert bucket.get_object(Bucket=s3_bucket, Key=f"{key}.thumb")["ContentType"] == "image/png"

        served = await s3_client_app.get(f"/i/{image['id']}")
        assert served.status_code == 200
        assert served.content == data

        assert (await s3_client_app.delete(f"/v3/images/{image['id']}", headers=owner.headers)).status_code == 204
        listed = bucket.list_objects_v2(Bucket=s3_bucket, Prefix="lib/")
        assert listed.get("KeyCount", 0) == 0
        assert (await s3_client_app.get(f"/i/{image['id']}")).status_code == 410
