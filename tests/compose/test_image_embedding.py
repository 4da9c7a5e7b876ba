"""Library images at compose (docs/compose.md ``image_embed_mode``): in ``cid`` mode the tenant's images named by proxy URL
travel as inline parts and the HTML points at them by Content-ID; in ``proxy`` mode (the default) nothing changes."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import httpx

from scaisend.compose.tasks import Outcome, process_email
from tests.compose.pipeline import body_of, parsed_mime
from tests.factories.compose import make_message, send_body, set_tenant_tracking
from tests.factories.images import image_bytes, uploaded
from tests.factories.tenants import TenantKey


def _html(*image_ids: str) -> str:
    first = image_ids[0]
    images = "".join(f'<img src="http://testserver/i/{i}" alt="">' for i in image_ids)
    return (
        f"<html><body>{images}<img src='http://testserver/i/{first}?variant=thumbnail'>"
        f'<a href="http://testserver/i/{first}">full size</a></body></html>'
    )


def _inline_parts(msg: EmailMessage) -> dict[str, tuple[str, bytes]]:
    """Content-ID (without brackets) → (content type, bytes) of every inline image part."""
    parts = {}
    for part in msg.walk():
        cid = part["Content-ID"]
        if cid and part.get_content_maintype() == "image":
            parts[cid.strip("<>")] = (part.get_content_type(), part.get_payload(decode=True))
    return parts


async def _compose(ctx: dict[str, Any], tenant: TenantKey, html: str) -> EmailMessage:
    body = send_body(content=[{"type": "text/plain", "value": "hi"}, {"type": "text/html", "value": html}])
    message_id = await make_message(ctx["maker"], tenant.tenant_id, body=body)
    assert await process_email(ctx, message_id) == Outcome.RENDERED
    return await parsed_mime(ctx, message_id)


class TestCidMode:
    async def test_library_images_travel_inline(
        self, compose_ctx: dict[str, Any], client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await set_tenant_tracking(compose_ctx["maker"], tenant.tenant_id, image_embed_mode="cid")
        logo_bytes = image_bytes("PNG", (400, 100))
        logo = await uploaded(client, tenant, data=logo_bytes)
        photo = await uploaded(client, tenant, data=image_bytes("JPEG", (50, 50)), content_type="image/jpeg")
        foreign = await uploaded(client, other_tenant)
        gone = await uploaded(client, tenant)
        assert (await client.delete(f"/v3/images/{gone['id']}", headers=tenant.headers)).status_code == 204

        msg = await _compose(compose_ctx, tenant, _html(logo["id"], photo["id"], foreign["id"], gone["id"]))

        html = body_of(msg, "html")
        assert f'src="cid:{logo["id"]}"' in html
        assert f'src="cid:{photo["id"]}"' in html
        assert f"src='cid:{logo['id']}-thumb'" in html
        assert f'src="http://testserver/i/{foreign["id"]}"' in html  # another tenant's image is not embedded
        assert f'src="http://testserver/i/{gone["id"]}"' in html  # nor a deleted one
        assert "cid:" not in html.split("<a ", 1)[1].split(">", 1)[0]  # links are not rewritten to cid:
        parts = _inline_parts(msg)
        assert set(parts) == {logo["id"], photo["id"], f"{logo['id']}-thumb"}
        assert parts[logo["id"]] == ("image/png", logo_bytes)
        assert parts[photo["id"]][0] == "image/jpeg"
        assert parts[f"{logo['id']}-thumb"][0] == "image/png"
        related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
        assert {p["Content-ID"].strip("<>") for p in related.iter_parts() if p["Content-ID"]} == set(parts)


class TestProxyMode:
    async def test_the_default_leaves_proxy_urls(
        self, compose_ctx: dict[str, Any], client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        logo = await uploaded(client, tenant)
        msg = await _compose(compose_ctx, tenant, _html(logo["id"]))
        assert f'src="http://testserver/i/{logo["id"]}"' in body_of(msg, "html")
        assert _inline_parts(msg) == {}
