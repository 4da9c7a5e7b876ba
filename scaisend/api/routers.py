"""Every router of the API, mounted in one place (one line each, with the prefix it serves)."""

from __future__ import annotations

from fastapi import FastAPI

from scaisend.admin import access_endpoints as admin_access_endpoints
from scaisend.admin import endpoints as admin_endpoints
from scaisend.admin import tenant_endpoints as admin_tenant_endpoints
from scaisend.api import health
from scaisend.auth import endpoints as auth_endpoints
from scaisend.auth import signin_endpoints
from scaisend.domains import endpoints as domain_endpoints
from scaisend.images import endpoints as image_endpoints
from scaisend.images import public as image_proxy
from scaisend.mail import endpoints as mail_endpoints
from scaisend.messages import endpoints as message_endpoints
from scaisend.stats import endpoints as stats_endpoints
from scaisend.suppressions import asm_endpoints
from scaisend.suppressions import endpoints as suppression_endpoints
from scaisend.templates import endpoints as template_endpoints
from scaisend.tenants import endpoints as identity_event_endpoints
from scaisend.tracking import endpoints as tracking_endpoints
from scaisend.webhooks import endpoints as webhook_endpoints


def include_routers(app: FastAPI) -> None:
    app.include_router(health.router)  # /health, /ready, /metrics
    app.include_router(auth_endpoints.router)  # /v3/api_keys, /v3/scopes
    app.include_router(signin_endpoints.router)  # /v3/auth/login, callback, refresh, logout, me
    app.include_router(domain_endpoints.router)  # /api/admin/domains
    app.include_router(mail_endpoints.router)  # /v3/mail/send, /v3/mail/batch, /v3/user/scheduled_sends
    app.include_router(message_endpoints.router)  # /v3/messages
    app.include_router(template_endpoints.router)  # /v3/templates
    app.include_router(suppression_endpoints.router)  # /v3/suppression
    app.include_router(asm_endpoints.router)  # /v3/asm
    app.include_router(stats_endpoints.router)  # /v3/stats, /v3/categories/stats
    app.include_router(webhook_endpoints.router)  # /v3/user/webhooks, /v3/user/webhooks/event/settings
    app.include_router(tracking_endpoints.router)  # /t/o, /t/c, /t/u (public)
    app.include_router(image_endpoints.router)  # /v3/images
    app.include_router(image_proxy.router)  # /i/{image_id} (public)
    app.include_router(admin_endpoints.router)  # /api/admin/tenants/{id}/tracking
    app.include_router(admin_tenant_endpoints.router)  # /api/admin/partners, /api/admin/tenants
    app.include_router(admin_access_endpoints.router)  # /api/admin/permissions, roles, users, groups
    app.include_router(identity_event_endpoints.router)  # /webhooks/scaikey
