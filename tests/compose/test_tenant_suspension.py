"""Suspension stops a queued message at compose (issue 11, D52): a message accepted through the API before its
tenant was suspended (by a partner admin, through the API) is not rendered or handed to delivery; it ends ``failed``
with the reason, which the tenant sees in ``/v3/messages`` once resumed."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from scaisend.compose.tasks import Outcome, process_email
from scaisend.models import MessageStatus
from tests.compose.pipeline import delivery_jobs, events, message_row
from tests.factories.identity import make_partner, make_partner_admin, signed_in
from tests.factories.messages import make_sender_domain, send, send_body
from tests.factories.tenants import make_tenant, make_user
from tests.harness.jwks import JwksIssuer


async def test_suspended_tenants_queued_message_is_stopped_at_compose(
    compose_ctx: dict[str, Any], jwt_app: FastAPI, jwt_client: httpx.AsyncClient, jwks_issuer: JwksIssuer
) -> None:
    maker = jwt_app.state.resources.maker
    partner = await make_partner(maker)
    home, customer = await make_tenant(maker, partner_id=partner), await make_tenant(maker, partner_id=partner)
    boss = await make_user(maker, home.tenant_id, "admin")
    await make_partner_admin(maker, partner, boss)
    await make_sender_domain(maker, customer.tenant_id)
    [message_id] = await send(jwt_client, customer, send_body("reader@example.org"))

    admin = signed_in(jwks_issuer, boss, home.tenant_id)
    suspended = await jwt_client.post(f"/api/admin/tenants/{customer.tenant_id}/suspend", headers=admin)
    assert suspended.status_code == 200, suspended.text

    assert await process_email(compose_ctx, message_id) == Outcome.TENANT_SUSPENDED
    row = await message_row(compose_ctx, message_id)
    assert (row.status, row.error_message) == (MessageStatus.FAILED, "Tenant suspended: the message was not sent")
    assert await events(compose_ctx, message_id) == []
    assert f"deliver_message:{message_id}:1" not in await delivery_jobs(compose_ctx)

    assert (await jwt_client.post(f"/api/admin/tenants/{customer.tenant_id}/resume", headers=admin)).status_code == 200
    shown = await jwt_client.get(f"/v3/messages/{message_id}", headers=customer.headers)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["status"], shown.json()["error_message"]) == (
        "failed",
        "Tenant suspended: the message was not sent",
    )
