"""/v3/images through the API (D20): upload with the content checked, list/search/folders, get, patch,
delete, scopes and tenant isolation."""

from __future__ import annotations

import hashlib
import io
import re

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from tests.factories.images import image_bytes, upload, uploaded
from tests.factories.tenants import TenantKey, make_key

FORMATS = [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("GIF", "image/gif", "gif"),
           ("WEBP", "image/webp", "webp")]  # fmt: skip


class TestUpload:
    @pytest.mark.parametrize(("fmt", "content_type", "extension"), FORMATS)
    async def test_each_format_is_stored_with_what_the_bytes_say(
        self, client: httpx.AsyncClient, tenant: TenantKey, fmt: str, content_type: str, extension: str
    ) -> None:
        data = image_bytes(fmt, (320, 200))
        body = await uploaded(client, tenant, data=data, filename=f"banner.{extension}", content_type=content_type,
                              alt_text="Our banner", folder="campaigns")  # fmt: skip
        assert re.fullmatch(r"img_[0-9a-z]+", body["id"])
        assert body["filename"] == f"{body['id']}.{extension}"
        assert body["original_filename"] == f"banner.{extension}"
        assert body["content_type"] == content_type
        assert (body["size"], body["width"], body["height"]) == (len(data), 320, 200)
        assert body["url"] == f"http://testserver/i/{body['id']}"
        assert body["thumbnail_url"] == f"http://testserver/i/{body['id']}?variant=thumbnail"
        assert (body["alt_text"], body["folder"]) == ("Our banner", "campaigns")
        assert body["created_at"].endswith("Z")

    async def test_the_declared_type_and_name_do_not_decide(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        body = await uploaded(client, tenant, data=image_bytes("PNG"), filename="photo.jpg", content_type="image/jpeg")
        assert body["content_type"] == "image/png"
        assert body["filename"].endswith(".png")

    async def test_a_file_that_is_not_an_image_is_refused(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await upload(client, tenant, b"<script>alert(1)</script>", filename="x.png")
        assert response.status_code == 400
        assert response.json() == {"detail": "File is not a JPEG, PNG, GIF or WebP image"}

    async def test_another_image_format_is_refused(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await upload(client, tenant, image_bytes("BMP"), filename="x.bmp", content_type="image/bmp")
        assert response.status_code == 400
        assert response.json() == {"detail": "File is not a JPEG, PNG, GIF or WebP image"}

    async def test_a_truncated_image_is_refused(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        data = image_bytes("JPEG", (400, 400), "blue")
        response = await upload(client, tenant, data[: len(data) // 2], content_type="image/jpeg")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("Image could not be decoded")

    async def test_a_pixel_flood_is_refused_before_decoding(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await upload(client, tenant, image_bytes("PNG", (10_000, 5_000)))
        assert response.status_code == 400
        assert response.json() == {"detail": "Image is 10000x5000 pixels; at most 40,000,000 pixels are accepted"}

    async def test_more_than_the_limit_is_413(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        limit = app.state.resources.settings.IMAGE_MAX_BYTES
        assert limit == 10 * 1024 * 1024
        response = await upload(client, tenant, image_bytes() + b"\0" * limit)
        assert response.status_code == 413
        assert response.json() == {"detail": f"Image is larger than {limit} bytes"}

    async def test_file_names_lose_folders_and_control_characters(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        body = await uploaded(client, tenant, filename="../../etc/\u202elogo.png")
        assert body["original_filename"] == "logo.png"

    async def test_the_file_is_required(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/images", headers=tenant.headers, data={"alt_text": "x"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "file"]


class TestListAndFolders:
    async def test_filters_search_and_pages(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        a = await uploaded(client, tenant, filename="summer-sale.png", folder="2026", alt_text="Beach")
        b = await uploaded(client, tenant, filename="logo.png", folder="brand", alt_text="Summer logo")
        c = await uploaded(client, tenant, filename="footer.png", folder="brand")

        listed = (await client.get("/v3/images", headers=tenant.headers)).json()
        assert [i["id"] for i in listed["result"]] == [c["id"], b["id"], a["id"]]
        assert (listed["total"], listed["page"], listed["page_size"]) == (3, 1, 25)

        brand = (await client.get("/v3/images", headers=tenant.headers, params={"folder": "brand"})).json()
        assert {i["id"] for i in brand["result"]} == {b["id"], c["id"]}
        summer = (await client.get("/v3/images", headers=tenant.headers, params={"search": "umme"})).json()
        assert {i["id"] for i in summer["result"]} == {a["id"], b["id"]}  # file name and alt text
        wildcard = (await client.get("/v3/images", headers=tenant.headers, params={"search": "%"})).json()
        assert wildcard["total"] == 0

        page = (await client.get("/v3/images", headers=tenant.headers, params={"page": 2, "page_size": 2})).json()
        assert [i["id"] for i in page["result"]] == [a["id"]]
        assert page["total"] == 3

        folders = (await client.get("/v3/images/folders", headers=tenant.headers)).json()
        assert folders == {"folders": ["2026", "brand"]}

    async def test_page_size_is_bounded(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get("/v3/images", headers=tenant.headers, params={"page_size": 101})
        assert response.status_code == 422


class TestGetPatchDelete:
    async def test_patch_changes_only_what_it_names(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        image = await uploaded(client, tenant, alt_text="old", folder="a")
        url = f"/v3/images/{image['id']}"
        moved = await client.patch(url, headers=tenant.headers, json={"folder": "b"})
        assert moved.status_code == 200
        assert (moved.json()["alt_text"], moved.json()["folder"]) == ("old", "b")
        cleared = await client.patch(url, headers=tenant.headers, json={"alt_text": None})
        assert (cleared.json()["alt_text"], cleared.json()["folder"]) == (None, "b")
        assert (await client.get(url, headers=tenant.headers)).json()["folder"] == "b"
        unknown = await client.patch(url, headers=tenant.headers, json={"filename": "x.png"})
        assert unknown.status_code == 422
        too_long = await client.patch(url, headers=tenant.headers, json={"folder": "f" * 256})
        assert too_long.status_code == 422

    async def test_delete_hides_the_image_and_the_proxy_answers_gone(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        image = await uploaded(client, tenant)
        assert (await client.get(f"/i/{image['id']}")).status_code == 200
        response = await client.delete(f"/v3/images/{image['id']}", headers=tenant.headers)
        assert response.status_code == 204
        assert (await client.get(f"/v3/images/{image['id']}", headers=tenant.headers)).status_code == 404
        gone = await client.get(f"/i/{image['id']}")
        assert gone.status_code == 410
        assert gone.json() == {"detail": "Image deleted"}
        assert (await client.get(f"/i/{image['id']}?variant=thumbnail")).status_code == 410
        assert (await client.get("/v3/images", headers=tenant.headers)).json()["total"] == 0
        again = await client.delete(f"/v3/images/{image['id']}", headers=tenant.headers)
        assert again.status_code == 404

    async def test_another_tenants_image_is_404(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        image = await uploaded(client, tenant, folder="secret")
        url = f"/v3/images/{image['id']}"
        assert (await client.get(url, headers=other_tenant.headers)).status_code == 404
        assert (await client.patch(url, headers=other_tenant.headers, json={"folder": "x"})).status_code == 404
        assert (await client.delete(url, headers=other_tenant.headers)).status_code == 404
        assert (await client.get("/v3/images", headers=other_tenant.headers)).json()["total"] == 0
        assert (await client.get("/v3/images/folders", headers=other_tenant.headers)).json() == {"folders": []}
        assert (await client.get(url, headers=tenant.headers)).status_code == 200


class TestScopes:
    async def test_template_scopes_guard_the_library(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        reader = await make_key(app.state.resources.maker, tenant.tenant_id, ["templates.read"])
        image = await uploaded(client, tenant)
        assert (await client.get("/v3/images", headers=reader.headers)).status_code == 200
        refused = await upload(client, reader)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Missing required scope: templates.write"}
        patch = await client.patch(f"/v3/images/{image['id']}", headers=reader.headers, json={"folder": "x"})
        assert patch.json() == {"detail": "Missing required scope: templates.write"}
        delete = await client.delete(f"/v3/images/{image['id']}", headers=reader.headers)
        assert delete.json() == {"detail": "Missing required scope: templates.delete"}
        assert (await client.get("/v3/images")).status_code == 401


class TestProxy:
    async def test_get_serves_the_bytes_with_the_documented_headers(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        data = image_bytes("PNG", (64, 32))
        image = await uploaded(client, tenant, data=data)
        response = await client.get(f"/i/{image['id']}")  # no credentials: public
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-length"] == str(len(data))
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'

    async def test_head_gives_the_same_headers_without_a_body(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        data = image_bytes("JPEG", (64, 32))
        image = await uploaded(client, tenant, data=data, content_type="image/jpeg")
        got = await client.get(f"/i/{image['id']}")
        head = await client.head(f"/i/{image['id']}")
        assert head.status_code == 200
        assert head.content == b""
        for name in ("content-type", "content-length", "cache-control", "etag"):
            assert head.headers[name] == got.headers[name]

    async def test_a_matching_if_none_match_is_304(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        image = await uploaded(client, tenant)
        etag = (await client.get(f"/i/{image['id']}")).headers["etag"]
        cached = await client.get(f"/i/{image['id']}", headers={"If-None-Match": f'"other", {etag}'})
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached.headers["etag"] == etag

    @pytest.mark.parametrize(("fmt", "content_type", "thumb_type"),
                             [("PNG", "image/png", "image/png"), ("JPEG", "image/jpeg", "image/jpeg"),
                              ("GIF", "image/gif", "image/png"), ("WEBP", "image/webp", "image/webp")])  # fmt: skip
    async def test_the_thumbnail_fits_200_pixels(
        self, client: httpx.AsyncClient, tenant: TenantKey, fmt: str, content_type: str, thumb_type: str
    ) -> None:
        image = await uploaded(client, tenant, data=image_bytes(fmt, (1000, 400)), content_type=content_type)
        response = await client.get(image["thumbnail_url"].removeprefix("http://testserver"))
        assert response.status_code == 200
        assert response.headers["content-type"] == thumb_type
        assert response.headers["etag"].endswith('-thumb"')
        with Image.open(io.BytesIO(response.content)) as thumb:
            assert thumb.size == (200, 80)

    async def test_unknown_ids_and_variants(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        assert (await client.get("/i/img_doesnotexist")).status_code == 404
        image = await uploaded(client, tenant)
        bad = await client.get(f"/i/{image['id']}", params={"variant": "huge"})
        assert bad.status_code == 400
        assert bad.json() == {"detail": "Unknown variant: huge (use thumbnail)"}
