"""Authentication dependencies: every request resolves to exactly one tenant before business logic runs
(D1, D3), and ``Annotated`` principals per scope answer ``403 Missing required scope: <scope>``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Response

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.api.rate_limits import Per, limit_for
from scaisend.auth.api_keys import INVALID_API_KEY, authenticate_api_key
from scaisend.auth.jwt import decode_jwt
from scaisend.auth.principal import Principal
from scaisend.errors import (
    AuthenticationError,
    ForbiddenError,
    MissingScopeError,
    RateLimitedError,
    TenantSuspendedError,
)
from scaisend.logs import tenant_id_var
from scaisend.tenants.access import held_roles, role_permission_names
from scaisend.tenants.service import resolve_tenant, resolve_user


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError("Missing Authorization header")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise AuthenticationError("Invalid Authorization header")
    return credential.strip()


async def _rate_limit(request: Request, response: Response, resources: ResourcesDep, principal: Principal) -> None:
    """docs/security.md, D46: count the request against its route's limit (per tenant or per credential); 429 above it. The
    X-RateLimit-* headers go on every authenticated response."""
    route = request.scope.get("route")
    limit = limit_for(request.method, getattr(route, "path", request.url.path))
    if limit.per is Per.TENANT:
        identity: tuple[str, ...] = (principal.tenant_id,)
    else:
        identity = (principal.tenant_id, principal.api_key_id or f"user:{principal.user_id}")
    decision = await resources.rate_limiter.hit(limit, *identity)
    if decision is None:
        return
    if not decision.allowed:
        raise RateLimitedError(decision.headers())
    response.headers.update(decision.headers())


async def get_principal(
    request: Request, response: Response, resources: ResourcesDep, session: SessionDep
) -> Principal:
    credential = _bearer(request)
    now = resources.clock.now()
    if credential.startswith("sg_"):
        key = await authenticate_api_key(session, credential, now)
        principal = Principal(
            tenant_id=key.tenant_id,
            scopes=key.scopes,
            kind="api_key",
            api_key_id=key.key_id,
            environment=key.environment,
        )
        suspended = key.tenant_suspended
    elif credential.count(".") == 2 and resources.jwks is not None:
        claims = await decode_jwt(
            credential, resources.jwks, resources.settings.JWT_AUDIENCE, resources.settings.JWT_ISSUER
        )
        found = await resolve_tenant(session, claims.tenant_id)
        user = await resolve_user(session, claims.subject)
        if found is None:
            raise AuthenticationError("Unknown tenant")
        if user is None:
            raise AuthenticationError("Unknown user")
        tenant = found
        suspended = tenant.suspended
        held = await held_roles(session, user.id, tenant.id)  # direct and through groups; once per request
        if not held:
            raise ForbiddenError("User has no role in this tenant")
        scopes = await role_permission_names(session, (h.role_id for h in held))
        principal = Principal(tenant_id=tenant.id, scopes=scopes, kind="jwt", user_id=user.id)
    else:
        raise AuthenticationError(INVALID_API_KEY)
    if suspended:
        raise TenantSuspendedError()
    tenant_id_var.set(principal.tenant_id)
    await _rate_limit(request, response, resources, principal)
    request.state.principal = principal
    return principal


def require_any(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and demands one of ``scopes``; the 403 names the first."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not any(principal.has(scope) for scope in scopes):
            raise MissingScopeError(scopes[0])
        return principal

    dependency.__name__ = "require_any_" + "_".join(s.replace(".", "_") for s in scopes)
    return dependency


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and demands ``scope``."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.has(scope):
            raise MissingScopeError(scope)
        return principal

    dependency.__name__ = f"require_{scope.replace('.', '_')}"
    return dependency


AnyPrincipal = Annotated[Principal, Depends(get_principal)]
MailSend = Annotated[Principal, Depends(require("mail.send"))]
MailSchedule = Annotated[Principal, Depends(require("mail.schedule"))]
MailCancel = Annotated[Principal, Depends(require("mail.cancel"))]
# D48 (supersedes D4's first form): reading messages needs one of the mail scopes; a key without scopes reads nothing.
MessagesRead = Annotated[Principal, Depends(require_any("mail.send", "mail.schedule", "mail.cancel"))]
TemplatesRead = Annotated[Principal, Depends(require("templates.read"))]
TemplatesWrite = Annotated[Principal, Depends(require("templates.write"))]
TemplatesDelete = Annotated[Principal, Depends(require("templates.delete"))]
SuppressionsRead = Annotated[Principal, Depends(require("suppressions.read"))]
SuppressionsWrite = Annotated[Principal, Depends(require("suppressions.write"))]
StatsRead = Annotated[Principal, Depends(require("stats.read"))]
StatsExport = Annotated[Principal, Depends(require("stats.export"))]
WebhooksRead = Annotated[Principal, Depends(require("webhooks.read"))]
WebhooksWrite = Annotated[Principal, Depends(require("webhooks.write"))]
DomainsRead = Annotated[Principal, Depends(require("domains.read"))]
DomainsWrite = Annotated[Principal, Depends(require("domains.write"))]
AdminApiKeys = Annotated[Principal, Depends(require("admin.api_keys"))]
AdminSettings = Annotated[Principal, Depends(require("admin.settings"))]
