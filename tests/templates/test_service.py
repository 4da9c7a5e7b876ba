"""``active_version`` — what the send endpoint and the compose worker ask (docs/templates.md, D15: sends use the active
version; a deleted template, or another tenant's, is not found)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from scaisend.db.session import unit_of_work
from scaisend.templates.service import active_version
from tests.factories.templates import make_template, make_template_with_version, make_version
from tests.factories.tenants import TenantKey


class TestActiveVersion:
    async def test_returns_the_template_and_its_active_version(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        template, _first = await make_template_with_version(client, tenant)
        second = await make_version(client, tenant, template["id"], name="v2", subject="Second {{n}}", active=1)
        async with unit_of_work(app.state.resources.maker) as session:
            found = await active_version(session, tenant.tenant_id, template["id"])
        assert found is not None
        row, version = found
        assert (row.id, row.generation, version.id, version.subject) == (
            template["id"],
            "dynamic",
            second["id"],
            "Second {{n}}",
        )

    async def test_none_for_another_tenant_a_missing_template_or_no_versions(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey, app: FastAPI
    ) -> None:
        template, _ = await make_template_with_version(client, tenant)
        empty = await make_template(client, tenant)
        async with unit_of_work(app.state.resources.maker) as session:
            assert await active_version(session, other_tenant.tenant_id, template["id"]) is None
            assert await active_version(session, tenant.tenant_id, "d-" + "0" * 32) is None
            assert await active_version(session, tenant.tenant_id, empty["id"]) is None

    async def test_none_after_the_template_is_deleted(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        template, _ = await make_template_with_version(client, tenant)
        assert (await client.delete(f"/v3/templates/{template['id']}", headers=tenant.headers)).status_code == 204
        async with unit_of_work(app.state.resources.maker) as session:
            assert await active_version(session, tenant.tenant_id, template["id"]) is None

    async def test_legacy_templates_are_returned_for_the_caller_to_refuse(
        self, client: httpx.AsyncClient, tenant: TenantKey, app: FastAPI
    ) -> None:
        template = await make_template(client, tenant, generation="legacy")
        await make_version(client, tenant, template["id"], html_content="<%body%>")
        async with unit_of_work(app.state.resources.maker) as session:
            found = await active_version(session, tenant.tenant_id, template["id"])
        assert found is not None
        assert found[0].generation == "legacy"
