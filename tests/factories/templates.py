"""Factories for templates and versions, made through the public API so they exercise what a user would do."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories.tenants import TenantKey


async def make_template(
    client: httpx.AsyncClient, owner: TenantKey, *, name: str | None = None, generation: str = "dynamic"
) -> dict[str, Any]:
    """A new template of ``owner`` (unique name unless given); returns the 201 body."""
    body = {"name": name or f"template {uuid.uuid4().hex[:8]}", "generation": generation}
    response = await client.post("/v3/templates", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_version(client: httpx.AsyncClient, owner: TenantKey, template_id: str, **fields: Any) -> dict[str, Any]:
    """A new version of ``template_id``; fields default to a small valid dynamic version."""
    body: dict[str, Any] = {"name": "v1", "subject": "Hello {{name}}", "html_content": "<p>Hi {{name}}</p>"}
    body.update(fields)
    response = await client.post(f"/v3/templates/{template_id}/versions", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_template_with_version(
    client: httpx.AsyncClient, owner: TenantKey, **fields: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    template = await make_template(client, owner)
    return template, await make_version(client, owner, template["id"], **fields)


async def template_and_version_ids(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    """Path parameters for the tenant-isolation cases: a template with one (active) version."""
    template, version = await make_template_with_version(client, owner)
    return {"template_id": template["id"], "version_id": version["id"]}
