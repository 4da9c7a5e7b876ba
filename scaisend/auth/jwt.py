"""JWT validation (D1, D3): RS256/ES256 tokens checked against the JWKS at ``SCAIKEY_JWKS_URL``.

Signing keys (not tokens) are cached; an unknown ``kid`` triggers one refetch, at most every few seconds, so a
rotated issuer key is picked up without restarting. The tenant comes from the ``tenant_id`` claim, the user from
``sub``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from jwt.types import Options

from scaisend.errors import AuthenticationError

ALGORITHMS = ["RS256", "ES256"]
REFETCH_INTERVAL = 5.0
CACHE_TTL = 300.0


@dataclass(frozen=True)
class JwtClaims:
    subject: str
    tenant_id: str
    raw: dict[str, Any]


class JwksCache:
    """The issuer's signing keys by ``kid``, fetched over HTTP."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self._http = http
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < REFETCH_INTERVAL:
                return
            response = await self._http.get(self.url, timeout=10.0)
            response.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(response.json())
            self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
            self._fetched_at = time.monotonic()

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        stale = time.monotonic() - self._fetched_at > CACHE_TTL
        if stale or (kid not in self._keys):
            try:
                await self._refresh()
            except (httpx.HTTPError, jwt.PyJWKSetError, ValueError) as exc:
                raise AuthenticationError("JWKS unavailable") from exc
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid or "")


async def decode_jwt(token: str, jwks: JwksCache, audience: str = "", issuer: str = "") -> JwtClaims:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthenticationError("Invalid JWT") from exc
    if header.get("alg") not in ALGORITHMS:
        raise AuthenticationError("JWT signature invalid")
    key = await jwks.key(header.get("kid"))
    if key is None:
        raise AuthenticationError("JWT signature invalid")
    options: Options = {"require": ["exp", "sub"], "verify_aud": bool(audience)}
    try:
        claims = jwt.decode(
            token, key.key, algorithms=ALGORITHMS, audience=audience or None, issuer=issuer or None, options=options
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("JWT expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthenticationError("JWT signature invalid") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"Invalid JWT: {exc}") from exc
    tenant_id = claims.get("tenant_id")
    if not isinstance(tenant_id, str) or not tenant_id:
        raise AuthenticationError("JWT has no tenant_id claim")
    return JwtClaims(subject=str(claims["sub"]), tenant_id=tenant_id, raw=claims)
