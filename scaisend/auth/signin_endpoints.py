"""``/v3/auth/*`` (docs/identity.md, D1, D53): sign-in through the OIDC provider of ``OIDC_ISSUER``. Routes only.

``login`` returns the provider URL (PKCE + ``state`` + ``nonce``) for the browser; the app's callback page posts the
``code`` and ``state`` it got back to ``callback``, which exchanges the code, validates the ID token, creates or
updates the user and returns the provider's access token (a JWT the API accepts through ``SCAIKEY_JWKS_URL``) and an
``rtk_`` refresh token. ``refresh`` rotates the refresh token; ``logout`` revokes it. ``me`` answers who the token
is: profile, tenant, roles (and through what) and effective permissions, also for a user who holds no role yet."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.api.rate_limits import SIGNIN
from scaisend.auth import sessions
from scaisend.auth.deps import _bearer
from scaisend.auth.jwt import decode_jwt
from scaisend.auth.oidc import OidcClient, ProviderError
from scaisend.auth.signin import tenant_of, user_from_claims
from scaisend.errors import AuthenticationError, RateLimitedError, TenantSuspendedError
from scaisend.models import Tenant, User
from scaisend.tenants.access import held_roles, role_permission_names
from scaisend.tenants.partners import administered_partners
from scaisend.tenants.service import resolve_tenant, resolve_user


async def throttle(request: Request, resources: ResourcesDep) -> None:
    """``RATE_LIMIT_SIGNIN`` per client address: these routes run before anyone is authenticated, and each login
    keeps a pending sign-in in Redis."""
    client = request.client.host if request.client else "unknown"
    decision = await resources.rate_limiter.hit(SIGNIN, client)
    if decision is not None and not decision.allowed:
        raise RateLimitedError(decision.headers())


router = APIRouter(prefix="/v3/auth", tags=["auth"])
Throttled = [Depends(throttle)]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=320, description="login hint passed to the provider")


class CallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=4096)
    state: str = Field(min_length=1, max_length=512)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(None, max_length=512)


def get_oidc(request: Request, resources: ResourcesDep) -> OidcClient:
    """The process's OIDC client, made on first use."""
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        client = OidcClient(resources.settings, resources.http, resources.redis)
        request.app.state.oidc = client
    return client


OidcDep = Annotated[OidcClient, Depends(get_oidc)]


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
    }


@router.post("/login", dependencies=Throttled)
async def login(oidc: OidcDep, body: LoginRequest | None = None) -> dict[str, str]:
    url, state = await oidc.begin((body.email if body else None) or None)
    return {"authorization_url": url, "state": state}


@router.post("/callback", dependencies=Throttled)
async def callback(
    body: CallbackRequest, oidc: OidcDep, session: SessionDep, resources: ResourcesDep
) -> dict[str, Any]:
    pending = await oidc.take_state(body.state)
    tokens = await oidc.exchange_code(body.code, pending)
    claims = await oidc.id_claims(tokens.id_token, pending.nonce)
    tenant = await tenant_of(session, resources.settings, claims)
    user = await user_from_claims(session, tenant, claims)
    refresh = await sessions.issue(
        session,
        resources.settings,
        user_id=user.id,
        tenant_id=tenant.id,
        provider_refresh_token=tokens.refresh_token,
        now=resources.clock.now(),
    )
    return {
        "access_token": tokens.access_token,
        "refresh_token": refresh,
        "expires_in": tokens.expires_in,
        "user": {**_profile(user), "tenant_id": tenant.id},
    }


def _refused() -> JSONResponse:
    return JSONResponse({"detail": sessions.INVALID}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


@router.post("/refresh", response_model=None, dependencies=Throttled)
async def refresh(
    body: RefreshRequest, oidc: OidcDep, session: SessionDep, resources: ResourcesDep
) -> dict[str, Any] | JSONResponse:
    now = resources.clock.now()
    held = await sessions.take(session, resources.settings, body.refresh_token, now)
    if held is None:  # a replayed token: its family is revoked, which must commit
        return _refused()
    if not held.provider_refresh_token:
        raise AuthenticationError("The identity provider gave no refresh token: sign in again")
    try:
        tokens = await oidc.refresh(held.provider_refresh_token)
    except ProviderError:
        await sessions.revoke_family(session, held.family_id, now)
        return _refused()
    tenant = await session.get(Tenant, held.tenant_id)
    if tenant is None or tenant.suspended:
        raise TenantSuspendedError()
    new = await sessions.issue(
        session,
        resources.settings,
        user_id=held.user_id,
        tenant_id=held.tenant_id,
        provider_refresh_token=tokens.refresh_token or held.provider_refresh_token,
        now=now,
        family_id=held.family_id,
    )
    return {"access_token": tokens.access_token, "refresh_token": new, "expires_in": tokens.expires_in}


@router.post("/logout", dependencies=Throttled)
async def logout(
    oidc: OidcDep, session: SessionDep, resources: ResourcesDep, body: LogoutRequest | None = None
) -> dict[str, str]:
    """Revoke the refresh token (and its sign-in) here and, when the provider offers it, there; always 200."""
    if body is not None and body.refresh_token:
        provider_token = await sessions.revoke(session, resources.settings, body.refresh_token, resources.clock.now())
        if provider_token and oidc.issuer:
            await oidc.revoke(provider_token)
    return {"status": "logged_out"}


async def signed_in_user(request: Request, resources: ResourcesDep, session: SessionDep) -> tuple[User, Tenant]:
    """The user and active tenant of a JWT, whether or not the user holds a role there."""
    credential = _bearer(request)
    if credential.startswith("sg_") or resources.jwks is None:
        raise AuthenticationError("GET /v3/auth/me needs a signed-in user's JWT")
    claims = await decode_jwt(
        credential, resources.jwks, resources.settings.JWT_AUDIENCE, resources.settings.JWT_ISSUER
    )
    tenant = await resolve_tenant(session, claims.tenant_id)
    user = await resolve_user(session, claims.subject)
    if tenant is None:
        raise AuthenticationError("Unknown tenant")
    if user is None:
        raise AuthenticationError("Unknown user")
    if tenant.suspended:
        raise TenantSuspendedError()
    return user, tenant


@router.get("/me")
async def me(identity: Annotated[tuple[User, Tenant], Depends(signed_in_user)], session: SessionDep) -> dict[str, Any]:
    user, tenant = identity
    held = await held_roles(session, user.id, tenant.id)
    return {
        **_profile(user),
        "scaikey_id": user.scaikey_id,
        "tenant_id": tenant.id,
        "tenant": {"id": tenant.id, "name": tenant.name, "slug": tenant.slug, "partner_id": tenant.partner_id},
        "roles": [{"id": h.role_id, "name": h.name, "via": h.via} for h in held],
        "permissions": sorted(await role_permission_names(session, (h.role_id for h in held))),
        "partner_admin_of": sorted(await administered_partners(session, user.id)),
    }
