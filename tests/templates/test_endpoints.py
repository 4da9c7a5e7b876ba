"""/v3/templates and its versions through the API (docs/templates.md, D15): codes, bodies, scopes, the one-active rule."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories.templates import make_template, make_template_with_version, make_version
from tests.factories.tenants import TenantKey, make_key

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def _template(client: httpx.AsyncClient, owner: TenantKey, template_id: str) -> dict[str, Any]:
    response = await client.get(f"/v3/templates/{template_id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _active_ids(client: httpx.AsyncClient, owner: TenantKey, template_id: str) -> list[str]:
    return [v["id"] for v in (await _template(client, owner, template_id))["versions"] if v["active"] == 1]


class TestCreateTemplate:
    async def test_dynamic_is_the_default_with_a_d_id(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/templates", headers=tenant.headers, json={"name": "Welcome"})
        assert response.status_code == 201
        body = response.json()
        assert re.fullmatch(r"d-[0-9a-f]{32}", body["id"])
        assert body["name"] == "Welcome"
        assert body["generation"] == "dynamic"
        assert body["versions"] == []
        assert body["created_at"].endswith("Z")
        assert body["updated_at"]

    async def test_legacy_gets_a_uuid(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        body = await make_template(client, tenant, generation="legacy")
        assert UUID_RE.match(body["id"])
        assert body["generation"] == "legacy"

    async def test_name_is_unique_in_the_tenant(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await make_template(client, tenant, name="Receipt")
        response = await client.post("/v3/templates", headers=tenant.headers, json={"name": "Receipt"})
        assert response.status_code == 409
        assert response.json() == {"detail": "A template named 'Receipt' already exists"}
        await make_template(client, other_tenant, name="Receipt")  # another tenant may use the name

    async def test_name_is_required_and_generation_checked(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        missing = await client.post("/v3/templates", headers=tenant.headers, json={"generation": "dynamic"})
        assert missing.status_code == 422
        assert missing.json()["detail"][0]["loc"] == ["body", "name"]
        wrong = await client.post("/v3/templates", headers=tenant.headers, json={"name": "x", "generation": "v3"})
        assert wrong.status_code == 422

    async def test_needs_templates_write(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        reader = await make_key(app.state.resources.maker, tenant.tenant_id, ["templates.read"])
        response = await client.post("/v3/templates", headers=reader.headers, json={"name": "x"})
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: templates.write"}


class TestListTemplates:
    async def test_lists_both_generations_by_default_and_filters(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        dynamic, _ = await make_template_with_version(client, tenant)
        legacy = await make_template(client, tenant, generation="legacy")
        both = await client.get("/v3/templates", headers=tenant.headers)
        assert both.status_code == 200
        assert [t["id"] for t in both.json()["result"]] == [dynamic["id"], legacy["id"]]
        assert both.json()["_metadata"]["count"] == 2
        only = await client.get("/v3/templates", headers=tenant.headers, params={"generations": "dynamic"})
        assert [t["id"] for t in only.json()["result"]] == [dynamic["id"]]
        listed = only.json()["result"][0]
        assert set(listed) == {"id", "name", "generation", "created_at", "updated_at", "versions"}
        assert listed["versions"][0]["active"] == 1
        assert "html_content" not in listed["versions"][0]
        legacy_only = await client.get(
            "/v3/templates", headers=tenant.headers, params={"generations": "legacy,dynamic"}
        )
        assert len(legacy_only.json()["result"]) == 2

    async def test_unknown_generation_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get("/v3/templates", headers=tenant.headers, params={"generations": "static"})
        assert response.status_code == 400
        assert "Unknown generation: static" in response.json()["detail"]

    async def test_pages_with_page_size_and_page_token(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        ids = [(await make_template(client, tenant))["id"] for _ in range(3)]
        first = (await client.get("/v3/templates", headers=tenant.headers, params={"page_size": 2})).json()
        assert [t["id"] for t in first["result"]] == ids[:2]
        assert first["_metadata"]["count"] == 3
        following = await client.get(first["_metadata"]["next"], headers=tenant.headers)
        assert [t["id"] for t in following.json()["result"]] == ids[2:]
        assert following.json()["_metadata"]["next"] is None
        too_big = await client.get("/v3/templates", headers=tenant.headers, params={"page_size": 201})
        assert too_big.status_code == 422

    async def test_shows_only_the_callers_templates(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await make_template(client, other_tenant)
        response = await client.get("/v3/templates", headers=tenant.headers)
        assert response.json()["result"] == []

    async def test_needs_templates_read(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        sender = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.send"])
        response = await client.get("/v3/templates", headers=sender.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: templates.read"}


class TestTemplate:
    async def test_unknown_template_is_404_with_detail(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get("/v3/templates/d-0123456789abcdef0123456789abcdef", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "Template not found: d-0123456789abcdef0123456789abcdef"}

    async def test_get_includes_full_versions(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, version = await make_template_with_version(client, tenant, preheader="Soon {{name}}")
        body = await _template(client, tenant, template["id"])
        assert body["versions"] == [version]
        assert version["preheader"] == "Soon {{name}}"
        assert version["html_content"] == "<p>Hi {{name}}</p>"

    async def test_rename(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant)
        taken = await make_template(client, tenant)
        response = await client.patch(
            f"/v3/templates/{template['id']}", headers=tenant.headers, json={"name": "Renamed"}
        )
        assert response.status_code == 200
        assert response.json()["name"] == "Renamed"
        clash = await client.patch(
            f"/v3/templates/{template['id']}", headers=tenant.headers, json={"name": taken["name"]}
        )
        assert clash.status_code == 409
        same = await client.patch(f"/v3/templates/{template['id']}", headers=tenant.headers, json={"name": "Renamed"})
        assert same.status_code == 200

    async def test_delete_removes_template_and_versions(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        template, version = await make_template_with_version(client, tenant)
        writer = await make_key(app.state.resources.maker, tenant.tenant_id, ["templates.read", "templates.write"])
        refused = await client.delete(f"/v3/templates/{template['id']}", headers=writer.headers)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Missing required scope: templates.delete"}
        response = await client.delete(f"/v3/templates/{template['id']}", headers=tenant.headers)
        assert response.status_code == 204
        assert response.content == b""
        assert (await client.get(f"/v3/templates/{template['id']}", headers=tenant.headers)).status_code == 404
        gone = await client.get(f"/v3/templates/{template['id']}/versions/{version['id']}", headers=tenant.headers)
        assert gone.status_code == 404
        again = await client.post("/v3/templates", headers=tenant.headers, json={"name": template["name"]})
        assert again.status_code == 201  # the name is free again

    async def test_duplicate_copies_versions(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2", active=1)
        response = await client.post(f"/v3/templates/{template['id']}", headers=tenant.headers)
        assert response.status_code == 201
        copy = response.json()
        assert copy["id"] != template["id"]
        assert copy["id"].startswith("d-")
        assert copy["name"] == f"{template['name']} copy"
        assert [(v["name"], v["active"], v["html_content"]) for v in copy["versions"]] == [
            (first["name"], 0, first["html_content"]),
            (second["name"], 1, second["html_content"]),
        ]
        assert {v["id"] for v in copy["versions"]}.isdisjoint({first["id"], second["id"]})
        again = await client.post(f"/v3/templates/{template['id']}", headers=tenant.headers)
        assert again.json()["name"] == f"{template['name']} copy 2"
        named = await client.post(f"/v3/templates/{template['id']}", headers=tenant.headers, json={"name": "Mine"})
        assert named.status_code == 201
        assert named.json()["name"] == "Mine"
        assert (await _template(client, tenant, template["id"]))["versions"][1]["active"] == 1  # original untouched


class TestCreateVersion:
    async def test_first_version_is_active_later_ones_not(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant)
        first = await make_version(client, tenant, template["id"], active=0)
        assert first["active"] == 1
        assert first["id"].startswith("v_")
        assert first["template_id"] == template["id"]
        second = await make_version(client, tenant, template["id"], name="v2")
        assert second["active"] == 0
        assert await _active_ids(client, tenant, template["id"]) == [first["id"]]

    async def test_active_1_deactivates_the_others(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, _first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2", active=1)
        assert second["active"] == 1
        assert await _active_ids(client, tenant, template["id"]) == [second["id"]]

    async def test_echoes_fields_and_generates_plain_content(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        template = await make_template(client, tenant)
        version = await make_version(
            client,
            tenant,
            template["id"],
            subject="Hi",
            preheader="Soon",
            editor="design",
            html_content="<h1>Title</h1><p>Body <a href='https://x.test'>link</a></p>",
        )
        assert version["subject"] == "Hi"
        assert version["preheader"] == "Soon"
        assert version["editor"] == "design"
        assert version["generate_plain_content"] is True
        assert version["plain_content"] == "Title\n\nBody link (https://x.test)"

    async def test_plain_content_given_is_kept(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant)
        kept = await make_version(client, tenant, template["id"], plain_content="Hi {{name}}")
        assert kept["generate_plain_content"] is False
        assert kept["plain_content"] == "Hi {{name}}"
        forced = await make_version(
            client, tenant, template["id"], name="v2", plain_content="ignored", generate_plain_content=True
        )
        assert forced["generate_plain_content"] is True
        assert forced["plain_content"] == "Hi {{name}}"  # the text of the HTML source
        empty = await make_version(client, tenant, template["id"], name="v3", generate_plain_content=False)
        assert empty["generate_plain_content"] is False
        assert empty["plain_content"] == ""

    async def test_field_limits_are_422(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant)
        url = f"/v3/templates/{template['id']}/versions"
        for body in (
            {"subject": "x"},
            {"name": ""},
            {"name": "x" * 256},
            {"name": "v", "subject": "s" * 1001},
            {"name": "v", "preheader": "p" * 501},
            {"name": "v", "active": 2},
            {"name": "v", "editor": "wysiwyg"},
        ):
            response = await client.post(url, headers=tenant.headers, json=body)
            assert response.status_code == 422, body

    async def test_syntax_errors_are_400_naming_the_part(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant)
        url = f"/v3/templates/{template['id']}/versions"
        cases = {
            "html_content": "<p>{{#if vip}}VIP</p>",
            "subject": "Hi {{name",
            "plain_content": "{{/each}}",
            "preheader": "{{nope a b}}",
        }
        for part, source in cases.items():
            response = await client.post(url, headers=tenant.headers, json={"name": "bad", part: source})
            assert response.status_code == 400, part
            assert response.json()["detail"].startswith(f"Template syntax error in {part}: "), response.text
        html = await client.post(url, headers=tenant.headers, json={"name": "bad", "html_content": "{{#if a}}"})
        assert html.json() == {
            "detail": "Template syntax error in html_content: syntax error: unclosed block {{#if}} at line 1, column 1"
        }
        assert (await _template(client, tenant, template["id"]))["versions"] == []

    async def test_legacy_templates_are_not_parsed(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant, generation="legacy")
        version = await make_version(
            client, tenant, template["id"], html_content="<%body%> {{#if", subject="<%subject%>"
        )
        assert version["html_content"] == "<%body%> {{#if"

    async def test_unknown_template_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/templates/d-nope/versions", headers=tenant.headers, json={"name": "v"})
        assert response.status_code == 404
        assert response.json() == {"detail": "Template not found: d-nope"}


class TestVersion:
    async def test_list_and_get(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2")
        listed = await client.get(f"/v3/templates/{template['id']}/versions", headers=tenant.headers)
        assert listed.status_code == 200
        assert listed.json() == {"result": [first, second]}
        one = await client.get(f"/v3/templates/{template['id']}/versions/{second['id']}", headers=tenant.headers)
        assert one.status_code == 200
        assert one.json() == second

    async def test_unknown_version_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template = await make_template(client, tenant)
        response = await client.get(f"/v3/templates/{template['id']}/versions/v_nope", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "Template version not found: v_nope"}

    async def test_version_of_another_template_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        _, version = await make_template_with_version(client, tenant)
        other = await make_template(client, tenant)
        response = await client.get(f"/v3/templates/{other['id']}/versions/{version['id']}", headers=tenant.headers)
        assert response.status_code == 404

    async def test_patch_updates_fields(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, version = await make_template_with_version(client, tenant, plain_content="Text")
        url = f"/v3/templates/{template['id']}/versions/{version['id']}"
        response = await client.patch(url, headers=tenant.headers, json={"subject": "New {{x}}", "name": "renamed"})
        assert response.status_code == 200
        body = response.json()
        assert (body["subject"], body["name"], body["html_content"], body["plain_content"]) == (
            "New {{x}}",
            "renamed",
            version["html_content"],
            "Text",
        )
        generated = (await client.patch(url, headers=tenant.headers, json={"plain_content": None})).json()
        assert generated["generate_plain_content"] is True
        assert generated["plain_content"] == "Hi {{name}}"
        bad = await client.patch(url, headers=tenant.headers, json={"html_content": "{{#each}}{{/each}}"})
        assert bad.status_code == 400
        assert bad.json()["detail"].startswith("Template syntax error in html_content")

    async def test_patch_active_switches_the_active_version(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2")
        url = f"/v3/templates/{template['id']}/versions"
        switched = await client.patch(f"{url}/{second['id']}", headers=tenant.headers, json={"active": 1})
        assert switched.status_code == 200
        assert switched.json()["active"] == 1
        assert await _active_ids(client, tenant, template["id"]) == [second["id"]]
        refused = await client.patch(f"{url}/{second['id']}", headers=tenant.headers, json={"active": 0})
        assert refused.status_code == 400
        assert refused.json() == {"detail": "Cannot deactivate the active version; activate another version instead"}
        noop = await client.patch(f"{url}/{first['id']}", headers=tenant.headers, json={"active": 0})
        assert noop.status_code == 200
        assert noop.json()["active"] == 0

    async def test_activate_route(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        template, first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2")
        url = f"/v3/templates/{template['id']}/versions/{second['id']}/activate"
        reader = await make_key(app.state.resources.maker, tenant.tenant_id, ["templates.read"])
        assert (await client.post(url, headers=reader.headers)).status_code == 403
        response = await client.post(url, headers=tenant.headers)
        assert response.status_code == 200
        assert response.json()["active"] == 1
        assert await _active_ids(client, tenant, template["id"]) == [second["id"]]
        again = await client.post(url, headers=tenant.headers)
        assert again.status_code == 200
        assert await _active_ids(client, tenant, template["id"]) == [second["id"]]
        back = f"/v3/templates/{template['id']}/versions/{first['id']}/activate"
        assert (await client.post(back, headers=tenant.headers)).status_code == 200
        assert await _active_ids(client, tenant, template["id"]) == [first["id"]]

    async def test_concurrent_activations_leave_exactly_one_active(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        template, _ = await make_template_with_version(client, tenant)
        others = [await make_version(client, tenant, template["id"], name=f"v{i}") for i in range(4)]
        url = f"/v3/templates/{template['id']}/versions/{{}}/activate"
        responses = await asyncio.gather(*(client.post(url.format(v["id"]), headers=tenant.headers) for v in others))
        assert [r.status_code for r in responses] == [200] * 4
        assert len(await _active_ids(client, tenant, template["id"])) == 1

    async def test_delete_inactive_version(self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI) -> None:
        template, first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2")
        url = f"/v3/templates/{template['id']}/versions/{second['id']}"
        writer = await make_key(app.state.resources.maker, tenant.tenant_id, ["templates.write"])
        assert (await client.delete(url, headers=writer.headers)).json() == {
            "detail": "Missing required scope: templates.delete"
        }
        response = await client.delete(url, headers=tenant.headers)
        assert response.status_code == 204
        assert [v["id"] for v in (await _template(client, tenant, template["id"]))["versions"]] == [first["id"]]
        assert (await client.delete(url, headers=tenant.headers)).status_code == 404

    async def test_the_active_version_cannot_be_deleted(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template, only = await make_template_with_version(client, tenant)
        url = f"/v3/templates/{template['id']}/versions/{only['id']}"
        response = await client.delete(url, headers=tenant.headers)
        assert response.status_code == 400
        assert response.json() == {
            "detail": "Cannot delete the active version of a template; activate another version first"
        }
        await make_version(client, tenant, template["id"], name="v2")
        assert (await client.delete(url, headers=tenant.headers)).status_code == 400
        assert await _active_ids(client, tenant, template["id"]) == [only["id"]]
