"""OAuth2 client credentials for webhook targets (docs/webhooks.md, D6, D7).

Before a POST to a target with OAuth configured we need a bearer token: a ``POST`` to ``oauth_token_url`` with
``grant_type=client_credentials``, ``client_id`` and ``client_secret`` (form-encoded). The answer's ``access_token``
is cached in Redis (encrypted) until ``expires_in`` minus 30 s (default lifetime 3600 s), shared by every worker, and
sent as ``Authorization: Bearer``. A 401 from the webhook drops the cached token so the next attempt fetches a new
one. The token URL passes the same SSRF guard as webhook URLs, with the address pinned the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Final

import httpx
from redis.asyncio import Redis

from scaisend.crypto import DecryptionError
from scaisend.resolver import Resolver
from scaisend.settings import Settings
from scaisend.webhooks.stored_secrets import OAuthClient, Purpose, seal, unseal
from scaisend.webhooks.url_guard import UnsafeWebhookUrlError, check_destination

DEFAULT_EXPIRES_IN: Final = 3600
EXPIRY_MARGIN: Final = 30


class OAuthTokenError(Exception):
    """No token could be had; the message says why (it becomes the attempt's ``last_error``)."""


def cache_key(settings: Settings, client: OAuthClient) -> str:
    """Redis key of the cached token; it changes with any of the client's three values."""
    digest = hashlib.sha256(f"{client.token_url}\n{client.client_id}\n{client.client_secret}".encode()).hexdigest()
    return f"{settings.REDIS_QUEUE_PREFIX}webhook:oauth:{digest[:32]}"


async def forget_token(redis: Redis, settings: Settings, client: OAuthClient) -> None:
    await redis.delete(cache_key(settings, client))


async def _fetch(
    http: httpx.AsyncClient, settings: Settings, resolver: Resolver, client: OAuthClient
) -> tuple[str, int]:
    try:
        target = await check_destination(client.token_url, settings, resolver)
    except UnsafeWebhookUrlError as exc:
        raise OAuthTokenError(f"OAuth token URL refused: {exc.detail}") from exc
    form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret}
    try:
        async with asyncio.timeout(settings.webhook_timeout):
            response = await http.post(
                target.url,
                data=form,
                headers={**target.headers, "Accept": "application/json"},
                extensions=target.extensions,
                follow_redirects=False,
            )
    except TimeoutError as exc:
        raise OAuthTokenError("OAuth token request timed out") from exc
    except httpx.HTTPError as exc:
        raise OAuthTokenError(f"OAuth token request failed: {type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise OAuthTokenError(f"OAuth token endpoint answered HTTP {response.status_code}")
    try:
        data = response.json()
        token = data["access_token"]
        expires_in = int(data.get("expires_in") or DEFAULT_EXPIRES_IN)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OAuthTokenError("OAuth token endpoint sent no access_token") from exc
    if not isinstance(token, str) or not token:
        raise OAuthTokenError("OAuth token endpoint sent no access_token")
    return token, expires_in


async def bearer_token(
    http: httpx.AsyncClient, redis: Redis, settings: Settings, resolver: Resolver, client: OAuthClient
) -> str:
    """A valid access token for ``client``, from the cache or freshly fetched."""
    key = cache_key(settings, client)
    cached = await redis.get(key)
    if cached is not None:
        try:
            return unseal(settings, Purpose.OAUTH_TOKEN, cached.decode() if isinstance(cached, bytes) else cached)
        except DecryptionError:
            await redis.delete(key)
    token, expires_in = await _fetch(http, settings, resolver, client)
    ttl = expires_in - EXPIRY_MARGIN
    if ttl > 0:
        await redis.set(key, seal(settings, Purpose.OAUTH_TOKEN, token), ex=ttl)
    return token
