"""``/v3/api_keys`` and ``/v3/scopes`` (docs/sending.md, D3). A caller can only grant scopes it holds itself."""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Response, status

from scaisend.api.deps import ResourcesDep, SessionDep
from scaisend.auth import api_keys as api_key_service
from scaisend.auth.deps import AdminApiKeys, AnyPrincipal
from scaisend.auth.principal import Principal
from scaisend.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut, ApiKeyUpdate, ScopeList
from scaisend.errors import BadRequestError, ForbiddenError
from scaisend.tenants import quotas

router = APIRouter(tags=["api_keys"])


def _check_grantable(principal: Principal, scopes: list[str]) -> None:
    api_key_service.check_scopes(scopes)
    excess = sorted(set(scopes) - principal.scopes)
    if excess:
        raise ForbiddenError(f"Cannot grant scopes you do not hold: {', '.join(excess)}")


@router.get("/v3/scopes", response_model=ScopeList)
async def list_scopes(principal: AnyPrincipal) -> ScopeList:
    """The scopes of the calling credential (SendGrid's meaning of ``GET /v3/scopes``)."""
    return ScopeList(scopes=sorted(principal.scopes))


@router.get("/v3/api_keys", response_model=ApiKeyList)
async def list_api_keys(principal: AdminApiKeys, session: SessionDep, include_revoked: bool = False) -> ApiKeyList:
    rows = await api_key_service.list_api_keys(session, principal.tenant_id, include_revoked)
    return ApiKeyList(api_keys=[ApiKeyOut.model_validate(r) for r in rows])


@router.post("/v3/api_keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(
    body: ApiKeyCreate, principal: AdminApiKeys, session: SessionDep, resources: ResourcesDep
) -> ApiKeyCreated:
    _check_grantable(principal, body.scopes)
    await quotas.require_api_key_room(session, resources.settings, principal.tenant_id)
    expires_at = body.expires_at
    if expires_at is not None:
        expires_at = expires_at.replace(tzinfo=UTC) if expires_at.tzinfo is None else expires_at.astimezone(UTC)
        if expires_at <= resources.clock.now():
            raise BadRequestError("expires_at must be in the future")
    row, secret = await api_key_service.create_api_key(
        session,
        tenant_id=principal.tenant_id,
        name=body.name,
        scopes=body.scopes,
        environment=body.environment,
        expires_at=expires_at,
    )
    return ApiKeyCreated(
        id=row.id,
        name=row.name,
        api_key=secret,
        prefix=row.prefix,
        environment=row.environment,
        scopes=row.scopes,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


@router.get("/v3/api_keys/{key_id}", response_model=ApiKeyOut)
async def get_api_key(key_id: str, principal: AdminApiKeys, session: SessionDep) -> ApiKeyOut:
    return ApiKeyOut.model_validate(await api_key_service.get_api_key(session, principal.tenant_id, key_id))


@router.patch("/v3/api_keys/{key_id}", response_model=ApiKeyOut)
@router.put("/v3/api_keys/{key_id}", response_model=ApiKeyOut, include_in_schema=False)
async def update_api_key(key_id: str, body: ApiKeyUpdate, principal: AdminApiKeys, session: SessionDep) -> ApiKeyOut:
    row = await api_key_service.get_api_key(session, principal.tenant_id, key_id)
    if body.scopes is not None:
        _check_grantable(principal, body.scopes)
    row = await api_key_service.update_api_key(session, row, name=body.name, scopes=body.scopes)
    return ApiKeyOut.model_validate(row)


@router.post("/v3/api_keys/{key_id}/rotate", response_model=ApiKeyCreated)
async def rotate_api_key(key_id: str, principal: AdminApiKeys, session: SessionDep) -> ApiKeyCreated:
    row = await api_key_service.get_api_key(session, principal.tenant_id, key_id)
    if row.revoked_at is not None:
        raise BadRequestError("Cannot rotate a revoked API key")
    # a new secret of a key is that key's power: only a caller holding all its scopes may receive it
    excess = sorted(set(row.scopes) - principal.scopes)
    if excess:
        raise ForbiddenError(f"Cannot rotate a key with scopes you do not hold: {', '.join(excess)}")
    secret = await api_key_service.rotate_api_key(session, row)
    return ApiKeyCreated(
        id=row.id,
        name=row.name,
        api_key=secret,
        prefix=row.prefix,
        environment=row.environment,
        scopes=row.scopes,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


@router.delete("/v3/api_keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(
    key_id: str, principal: AdminApiKeys, session: SessionDep, resources: ResourcesDep
) -> Response:
    row = await api_key_service.get_api_key(session, principal.tenant_id, key_id)
    await api_key_service.revoke_api_key(session, row, resources.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
