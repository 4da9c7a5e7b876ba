"""Tenant isolation on every resource route (docs/architecture.md): tenant B gets 404 for tenant A's resource.

``CASES`` lists every route of the app that takes a resource id; ``test_every_resource_route_is_covered`` walks
the app's routes and fails when a new one is missing here, so no route can skip the check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import suppressions as sup
from tests.factories.identity import make_partner, signed_in
from tests.factories.images import uploaded
from tests.factories.messages import isolation_batch, isolation_message
from tests.factories.templates import template_and_version_ids
from tests.factories.tenants import TenantKey, make_tenant, make_user
from tests.factories.webhooks import isolation_webhook
from tests.harness.isolation import assert_tenant_isolated
from tests.harness.jwks import JwksIssuer

Creator = Callable[[httpx.AsyncClient, TenantKey], Awaitable[dict[str, str]]]

# Routes with a path parameter that are public by design (tracking links, image proxy) or not tenant resources.
NOT_TENANT_RESOURCES: set[tuple[str, str]] = {
    ("GET", "/i/{image_id}"),
    ("HEAD", "/i/{image_id}"),
    ("GET", "/api/admin/permissions/{permission_id}"),  # the permission catalogue is the same for every tenant
}


async def create_api_key(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    response = await client.post("/v3/api_keys", headers=owner.headers, json={"name": "isolated", "scopes": []})
    assert response.status_code == 201, response.text
    return {"key_id": response.json()["id"]}


async def create_domain(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    domain = f"iso-{owner.tenant_id[-8:].lower()}.example.test"
    response = await client.post("/api/admin/domains", headers=owner.headers, json={"domain": domain})
    assert response.status_code == 201, response.text
    return {"domain_id": response.json()["data"]["id"]}


async def create_image(client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"image_id": (await uploaded(client, owner))["id"]}


async def own_tenant(_client: httpx.AsyncClient, owner: TenantKey) -> dict[str, str]:
    return {"tenant_id": owner.tenant_id}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    create: Creator
    json: Any = None


CASES: list[Case] = [
    Case("GET", "/v3/api_keys/{key_id}", create_api_key),
    Case("PATCH", "/v3/api_keys/{key_id}", create_api_key, {"name": "renamed"}),
    Case("PUT", "/v3/api_keys/{key_id}", create_api_key, {"name": "renamed"}),
    Case("POST", "/v3/api_keys/{key_id}/rotate", create_api_key),
    Case("DELETE", "/v3/api_keys/{key_id}", create_api_key),
    Case("GET", "/api/admin/tenants/{tenant_id}/tracking", own_tenant),
    Case("PUT", "/api/admin/tenants/{tenant_id}/tracking", own_tenant, {"open_tracking_enabled": True}),
    Case("GET", "/api/admin/domains/{domain_id}", create_domain),
    Case("PATCH", "/api/admin/domains/{domain_id}", create_domain, {"is_active": True}),
    Case("DELETE", "/api/admin/domains/{domain_id}", create_domain),
    Case("POST", "/api/admin/domains/{domain_id}/verify", create_domain),
    Case("POST", "/api/admin/domains/{domain_id}/rotate-dkim", create_domain),
    Case("GET", "/v3/templates/{template_id}", template_and_version_ids),
    Case("PATCH", "/v3/templates/{template_id}", template_and_version_ids, {"name": "renamed"}),
    Case("POST", "/v3/templates/{template_id}", template_and_version_ids),
    Case("DELETE", "/v3/templates/{template_id}", template_and_version_ids),
    Case("GET", "/v3/templates/{template_id}/versions", template_and_version_ids),
    Case("POST", "/v3/templates/{template_id}/versions", template_and_version_ids, {"name": "v2"}),
    Case("GET", "/v3/templates/{template_id}/versions/{version_id}", template_and_version_ids),
    Case("PATCH", "/v3/templates/{template_id}/versions/{version_id}", template_and_version_ids, {"subject": "x"}),
    Case("DELETE", "/v3/templates/{template_id}/versions/{version_id}", template_and_version_ids),
    Case("POST", "/v3/templates/{template_id}/versions/{version_id}/activate", template_and_version_ids),
    Case("GET", "/v3/mail/batch/{batch_id}", isolation_batch),
    Case("POST", "/v3/mail/batch/{batch_id}/cancel", isolation_batch),
    Case("GET", "/v3/messages/{message_id}", isolation_message),
    Case("POST", "/v3/messages/{message_id}/cancel", isolation_message),
    Case("POST", "/v3/messages/{message_id}/retry", isolation_message),
    Case("POST", "/v3/messages/{message_id}/fail", isolation_message),
    Case("GET", "/v3/suppression/bounces/{email}", sup.bounce_email),
    Case("DELETE", "/v3/suppression/bounces/{email}", sup.bounce_email),
    Case("GET", "/v3/suppression/blocks/{email}", sup.block_email),
    Case("DELETE", "/v3/suppression/blocks/{email}", sup.block_email),
    Case("GET", "/v3/suppression/spam_reports/{email}", sup.spam_report_email),
    Case("DELETE", "/v3/suppression/spam_reports/{email}", sup.spam_report_email),
    Case("GET", "/v3/asm/suppressions/global/{email}", sup.global_unsubscribe_email),
    Case("DELETE", "/v3/asm/suppressions/global/{email}", sup.global_unsubscribe_email),
    Case("GET", "/v3/asm/groups/{group_id}", sup.group_id),
    Case("PATCH", "/v3/asm/groups/{group_id}", sup.group_id, {"description": "changed"}),
    Case("DELETE", "/v3/asm/groups/{group_id}", sup.group_id),
    Case("GET", "/v3/asm/groups/{group_id}/suppressions", sup.group_id),
    Case("POST", "/v3/asm/groups/{group_id}/suppressions", sup.group_id, {"recipient_emails": ["x@example.test"]}),
    Case(
        "POST", "/v3/asm/groups/{group_id}/suppressions/search", sup.group_id, {"recipient_emails": ["x@example.test"]}
    ),
    Case("DELETE", "/v3/asm/groups/{group_id}/suppressions/{email}", sup.group_member),
    Case("GET", "/v3/images/{image_id}", create_image),
    Case("PATCH", "/v3/images/{image_id}", create_image, {"folder": "moved"}),
    Case("DELETE", "/v3/images/{image_id}", create_image),
    Case("GET", "/v3/user/webhooks/{webhook_id}", isolation_webhook),
    Case("PATCH", "/v3/user/webhooks/{webhook_id}", isolation_webhook, {"enabled": False}),
    Case("DELETE", "/v3/user/webhooks/{webhook_id}", isolation_webhook),
    Case("POST", "/v3/user/webhooks/{webhook_id}/signing_secret", isolation_webhook),
]


@dataclass(frozen=True)
class TenantUser:
    """A tenant in a partner of its own, and the headers of a signed-in user holding its ``admin`` role."""

    tenant_id: str
    partner_id: str
    headers: dict[str, str]


UserCreator = Callable[[httpx.AsyncClient, TenantUser], Awaitable[dict[str, str]]]


async def _data(client: httpx.AsyncClient, owner: TenantUser, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/api/admin{path}", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def own_partner(_client: httpx.AsyncClient, owner: TenantUser) -> dict[str, str]:
    return {"partner_id": owner.partner_id}


async def partner_and_user(client: httpx.AsyncClient, owner: TenantUser) -> dict[str, str]:
    user = await _data(client, owner, "/users", {"email": "iso-partner@example.test"})
    return {"partner_id": owner.partner_id, "user_id": user["id"]}


async def own_tenant_of_user(_client: httpx.AsyncClient, owner: TenantUser) -> dict[str, str]:
    return {"tenant_id": owner.tenant_id}


async def user_role_group(client: httpx.AsyncClient, owner: TenantUser) -> dict[str, str]:
    user = await _data(client, owner, "/users", {"email": "iso@example.test"})
    role = await _data(client, owner, "/roles", {"name": f"iso-{user['id'][-6:]}", "permissions": ["stats.read"]})
    group = await _data(client, owner, "/groups", {"name": f"iso-{user['id'][-6:]}"})
    return {"user_id": user["id"], "role_id": role["id"], "group_id": group["id"]}


@dataclass(frozen=True)
class UserCase:
    method: str
    path: str
    create: UserCreator
    json: Any = None


USER_CASES: list[UserCase] = [
    UserCase("GET", "/api/admin/partners/{partner_id}", own_partner),
    UserCase("GET", "/api/admin/partners/{partner_id}/stats", own_partner),
    UserCase("GET", "/api/admin/partners/{partner_id}/admins", own_partner),
    UserCase("POST", "/api/admin/partners/{partner_id}/admins/{user_id}", partner_and_user),
    UserCase("DELETE", "/api/admin/partners/{partner_id}/admins/{user_id}", partner_and_user),
    UserCase("GET", "/api/admin/tenants/{tenant_id}", own_tenant_of_user),
    UserCase("PATCH", "/api/admin/tenants/{tenant_id}", own_tenant_of_user, {"settings": {"k": 1}}),
    UserCase("POST", "/api/admin/tenants/{tenant_id}/suspend", own_tenant_of_user),
    UserCase("POST", "/api/admin/tenants/{tenant_id}/resume", own_tenant_of_user),
    UserCase("GET", "/api/admin/roles/{role_id}", user_role_group),
    UserCase("PATCH", "/api/admin/roles/{role_id}", user_role_group, {"description": "x"}),
    UserCase("DELETE", "/api/admin/roles/{role_id}", user_role_group),
    UserCase("GET", "/api/admin/users/{user_id}", user_role_group),
    UserCase("PATCH", "/api/admin/users/{user_id}", user_role_group, {"first_name": "X"}),
    UserCase("DELETE", "/api/admin/users/{user_id}", user_role_group),
    UserCase("POST", "/api/admin/users/{user_id}/roles/{role_id}", user_role_group),
    UserCase("DELETE", "/api/admin/users/{user_id}/roles/{role_id}", user_role_group),
    UserCase("GET", "/api/admin/groups/{group_id}", user_role_group),
    UserCase("PATCH", "/api/admin/groups/{group_id}", user_role_group, {"name": "renamed"}),
    UserCase("DELETE", "/api/admin/groups/{group_id}", user_role_group),
    UserCase("POST", "/api/admin/groups/{group_id}/members/{user_id}", user_role_group),
    UserCase("DELETE", "/api/admin/groups/{group_id}/members/{user_id}", user_role_group),
    UserCase("POST", "/api/admin/groups/{group_id}/roles/{role_id}", user_role_group),
    UserCase("DELETE", "/api/admin/groups/{group_id}/roles/{role_id}", user_role_group),
]


async def _tenant_user(app: FastAPI, issuer: JwksIssuer) -> TenantUser:
    maker = app.state.resources.maker
    partner = await make_partner(maker)
    tenant = await make_tenant(maker, partner_id=partner)
    return TenantUser(
        tenant.tenant_id,
        partner,
        signed_in(issuer, await make_user(maker, tenant.tenant_id, "admin"), tenant.tenant_id),
    )


@pytest.mark.parametrize("case", USER_CASES, ids=[f"{c.method} {c.path}" for c in USER_CASES])
async def test_other_tenants_user_gets_404(
    case: UserCase, jwt_app: FastAPI, jwt_client: httpx.AsyncClient, jwks_issuer: JwksIssuer
) -> None:
    owner, other = await _tenant_user(jwt_app, jwks_issuer), await _tenant_user(jwt_app, jwks_issuer)
    params = await case.create(jwt_client, owner)
    path = case.path.format(**params)
    await assert_tenant_isolated(
        jwt_client, case.method, path, owner=owner.headers, other=other.headers, json=case.json
    )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.path}" for c in CASES])
async def test_other_tenant_gets_404(
    case: Case, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
) -> None:
    params = await case.create(client, tenant)
    path = case.path.format(**params)
    await assert_tenant_isolated(
        client, case.method, path, owner=tenant.headers, other=other_tenant.headers, json=case.json
    )


def test_every_resource_route_is_covered(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() if "{" in path for method in ops}
    assert ("GET", "/v3/api_keys/{key_id}") in routes  # the walk itself works
    covered = {(c.method, c.path) for c in [*CASES, *USER_CASES]} | NOT_TENANT_RESOURCES
    missing = sorted(routes - covered)
    assert missing == [], f"add these routes to tests/test_tenant_isolation.py CASES: {missing}"
