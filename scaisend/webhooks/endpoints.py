"""``/v3/user/webhooks`` (docs/webhooks.md, D6, D7; D6-D8): webhook endpoints of the caller's tenant and SendGrid's single Event
Webhook settings (``/event/settings``, ``/event/settings/signed``). Routes only; the service does the work. Reading
needs ``webhooks.read``, changing ``webhooks.write``; another tenant's webhook id answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from scaisend.api.deps import MAX_PAGE, ResourcesDep, SessionDep
from scaisend.auth.deps import WebhooksRead, WebhooksWrite
from scaisend.resolver import make_resolver
from scaisend.tenants import quotas
from scaisend.webhooks import service
from scaisend.webhooks.schemas import (
    EventWebhookSettingsOut,
    EventWebhookSettingsUpdate,
    SignedOut,
    SignedUpdate,
    WebhookCreate,
    WebhookList,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from scaisend.webhooks.service import OAUTH_FIELDS, OAuthInput

router = APIRouter(prefix="/v3/user/webhooks", tags=["webhooks"])


# --- the Event Webhook (D7); declared before /{webhook_id} ------------------------------------------------------------
@router.get("/event/settings", response_model=EventWebhookSettingsOut)
async def get_event_webhook(principal: WebhooksRead, session: SessionDep) -> EventWebhookSettingsOut:
    return EventWebhookSettingsOut.build(await service.get_event_webhook(session, principal.tenant_id))


@router.patch("/event/settings", response_model=EventWebhookSettingsOut)
async def update_event_webhook(
    body: EventWebhookSettingsUpdate, principal: WebhooksWrite, session: SessionDep, resources: ResourcesDep
) -> EventWebhookSettingsOut:
    row = await service.update_event_webhook(
        session, resources.settings, make_resolver(resources.settings), principal.tenant_id, body
    )
    return EventWebhookSettingsOut.build(row)


@router.get("/event/settings/signed", response_model=SignedOut)
async def get_signed(principal: WebhooksRead, session: SessionDep) -> SignedOut:
    return SignedOut.build(await service.get_event_webhook(session, principal.tenant_id))


@router.patch("/event/settings/signed", response_model=SignedOut)
async def update_signed(
    body: SignedUpdate, principal: WebhooksWrite, session: SessionDep, resources: ResourcesDep
) -> SignedOut:
    return SignedOut.build(await service.set_signed(session, resources.settings, principal.tenant_id, body.enabled))


# --- endpoints (D6) ---------------------------------------------------------------------------------------------------
@router.get("", response_model=WebhookList)
async def list_webhooks(
    principal: WebhooksRead,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    is_active: bool | None = None,
) -> WebhookList:
    rows, total = await service.list_endpoints(
        session, principal.tenant_id, page=page, page_size=page_size, is_active=is_active
    )
    return WebhookList(webhooks=[WebhookOut.build(r) for r in rows], total=total)


@router.post("", response_model=WebhookWithSecret, status_code=status.HTTP_201_CREATED)
async def create_webhook(
    body: WebhookCreate, principal: WebhooksWrite, session: SessionDep, resources: ResourcesDep
) -> WebhookWithSecret:
    await quotas.require_webhook_room(session, resources.settings, principal.tenant_id)
    row, secret = await service.create_endpoint(
        session,
        resources.settings,
        make_resolver(resources.settings),
        principal.tenant_id,
        url=body.url,
        enabled_events=body.enabled_events,
        oauth=OAuthInput(body.oauth_client_id, body.oauth_client_secret, body.oauth_token_url),
    )
    return WebhookWithSecret(**WebhookOut.build(row).model_dump(), signing_secret=secret)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: str, principal: WebhooksRead, session: SessionDep) -> WebhookOut:
    return WebhookOut.build(await service.get_endpoint(session, principal.tenant_id, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, principal: WebhooksWrite, session: SessionDep, resources: ResourcesDep
) -> WebhookOut:
    row = await service.get_endpoint(session, principal.tenant_id, webhook_id)
    oauth = (
        OAuthInput(body.oauth_client_id, body.oauth_client_secret, body.oauth_token_url)
        if body.model_fields_set & set(OAUTH_FIELDS)
        else None
    )
    await service.update_endpoint(
        session,
        resources.settings,
        make_resolver(resources.settings),
        row,
        url=body.url,
        enabled_events=body.enabled_events,
        enabled=body.enabled,
        oauth=oauth,
    )
    return WebhookOut.build(row)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: str, principal: WebhooksWrite, session: SessionDep) -> Response:
    row = await service.get_endpoint(session, principal.tenant_id, webhook_id)
    await service.delete_endpoint(session, row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/signing_secret", response_model=WebhookWithSecret)
async def rotate_signing_secret(
    webhook_id: str, principal: WebhooksWrite, session: SessionDep, resources: ResourcesDep
) -> WebhookWithSecret:
    row = await service.get_endpoint(session, principal.tenant_id, webhook_id)
    secret = await service.rotate_secret(session, resources.settings, row)
    return WebhookWithSecret(**WebhookOut.build(row).model_dump(), signing_secret=secret)
