"""Sign-in against any OpenID Connect provider (docs/identity.md, D1, D53), with authlib's OAuth 2.0 building blocks and
joserfc (authlib's JOSE library): the discovery document, the authorization URL with PKCE (S256), ``state`` and
``nonce``, the token requests (authorization code, refresh, revocation) and the ID token's validation.

The HTTP calls go through the API process's own ``httpx`` client; the discovery document and the provider's keys are
cached (keys refetched when a token names an unknown ``kid``, at most every few seconds). Each pending sign-in keeps
its PKCE verifier and nonce in Redis under its ``state`` for :data:`STATE_TTL`, and a ``state`` is used once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from redis.asyncio import Redis

from scaisend.errors import AuthenticationError, BadRequestError, NotFoundError, ProviderUnavailableError
from scaisend.settings import Settings

STATE_TTL = 600  # seconds a sign-in may take between /login and /callback
METADATA_TTL = 3600.0
KEYS_REFETCH_INTERVAL = 5.0
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "PS256"]
NOT_CONFIGURED = "Sign-in is not configured (OIDC_ISSUER)"


class ProviderError(Exception):
    """The provider refused a token request; ``error`` is its OAuth error code."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


@dataclass(frozen=True)
class PendingSignIn:
    verifier: str
    nonce: str


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_in: int
    id_token: str | None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> TokenSet:
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ProviderError("invalid_response", "no access_token")
        refresh = body.get("refresh_token")
        id_token = body.get("id_token")
        return cls(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            expires_in=int(body.get("expires_in") or 3600),
            id_token=id_token if isinstance(id_token, str) else None,
        )


class OidcClient:
    """One OIDC relying party: ScaiSend's client at the provider named by ``OIDC_ISSUER``."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, redis: Redis) -> None:
        self.settings = settings
        self._http = http
        self._redis = redis
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    @property
    def issuer(self) -> str:
        return self.settings.OIDC_ISSUER.rstrip("/")

    def _state_key(self, state: str) -> str:
        return f"{self.settings.REDIS_QUEUE_PREFIX}oidc:state:{state}"

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, timeout=10.0)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailableError() from exc
        if not isinstance(body, dict):
            raise ProviderUnavailableError()
        return body

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (``/.well-known/openid-configuration``)."""
        if not self.issuer:
            raise NotFoundError(NOT_CONFIGURED)
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_TTL:
            found = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(found.get("issuer", "")).rstrip("/") != self.issuer:
                raise ProviderUnavailableError()  # a discovery document for another issuer is not this provider
            self._metadata, self._metadata_at = found, time.monotonic()
        return self._metadata

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or (refresh and time.monotonic() - self._keys_at > KEYS_REFETCH_INTERVAL):
            document = await self._get_json(str((await self.metadata())["jwks_uri"]))
            try:
                self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError) as exc:
                raise ProviderUnavailableError() from exc
            self._keys_at = time.monotonic()
        return self._keys

    # --- the authorization request ------------------------------------------------------------------------------
    async def begin(self, login_hint: str | None = None) -> tuple[str, str]:
        """A new sign-in: the provider URL to send the browser to, and its ``state``."""
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        extra: dict[str, str] = {
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if login_hint:
            extra["login_hint"] = login_hint
        url = prepare_grant_uri(
            meta["authorization_endpoint"],
            self.settings.OIDC_CLIENT_ID,
            "code",
            redirect_uri=self.settings.OIDC_REDIRECT_URI,
            scope=self.settings.OIDC_SCOPES,
            state=state,
            **extra,
        )
        pending = json.dumps({"verifier": verifier, "nonce": nonce})
        await self._redis.set(self._state_key(state), pending, ex=STATE_TTL)
        return str(url), state

    async def take_state(self, state: str) -> PendingSignIn:
        """The pending sign-in of ``state``, removed so it cannot be used twice; unknown or expired → 401."""
        key = self._state_key(state)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.delete(key)
            found, _deleted = await pipe.execute()
        if not found:
            raise AuthenticationError("State mismatch: unknown or expired sign-in")
        data = json.loads(found)
        return PendingSignIn(verifier=data["verifier"], nonce=data["nonce"])

    # --- token requests -------------------------------------------------------------------------------------------
    async def _post_form(self, url: str, form: dict[str, str]) -> httpx.Response:
        """POST with the client's authentication: HTTP Basic with a secret, else ``client_id`` in the form (PKCE)."""
        headers = {"Accept": "application/json"}
        if self.settings.OIDC_CLIENT_SECRET:
            auth = httpx.BasicAuth(self.settings.OIDC_CLIENT_ID, self.settings.OIDC_CLIENT_SECRET)
            return await self._http.post(url, data=form, auth=auth, headers=headers, timeout=10.0)
        form = {**form, "client_id": self.settings.OIDC_CLIENT_ID}
        return await self._http.post(url, data=form, headers=headers, timeout=10.0)

    async def _token_request(self, form: dict[str, str]) -> TokenSet:
        meta = await self.metadata()
        try:
            response = await self._post_form(str(meta["token_endpoint"]), form)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailableError() from exc
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "invalid_request") if isinstance(body, dict) else "invalid_request"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise ProviderError(str(error), str(description))
        return TokenSet.parse(body)

    async def exchange_code(self, code: str, pending: PendingSignIn) -> TokenSet:
        try:
            return await self._token_request(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.settings.OIDC_REDIRECT_URI,
                    "code_verifier": pending.verifier,
                }
            )
        except ProviderError as exc:
            raise BadRequestError(f"Bad or expired code ({exc.error})") from exc

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def revoke(self, refresh_token: str) -> None:
        """Best effort: tell the provider the refresh token is no longer wanted (RFC 7009), when it offers that."""
        endpoint = (await self.metadata()).get("revocation_endpoint")
        if not endpoint:
            return
        try:
            await self._post_form(str(endpoint), {"token": refresh_token, "token_type_hint": "refresh_token"})
        except httpx.HTTPError:
            return

    # --- the ID token ---------------------------------------------------------------------------------------------
    async def id_claims(self, id_token: str | None, nonce: str) -> dict[str, Any]:
        """The verified claims of the ID token: signature by the provider's keys, ``iss``, ``aud``, ``exp``, ``nonce``."""
        if not id_token:
            raise AuthenticationError("The identity provider returned no ID token")
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), algorithms=ID_TOKEN_ALGORITHMS)
            except JoseError:  # perhaps a key rotated at the provider: fetch its keys once more
                token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=ID_TOKEN_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.settings.OIDC_CLIENT_ID},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise AuthenticationError(f"ID token rejected: {exc}") from exc
        return dict(token.claims)
