"""Rate limits (docs/security.md, D46; issue 9 finding 3): counters in Redis through the ``limits`` library, fixed windows.

Which limit a request meets is decided by its route (:data:`ROUTE_LIMITS`); the identity it is counted under is the
tenant or the credential (API key, or user and tenant for a JWT) as the spec gives, or the client address and
message for the public tracking routes. :meth:`RateLimiter.hit` counts one request and returns a :class:`Decision`
whose :meth:`Decision.headers` are ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (Unix
time the window resets) and, when refused, ``Retry-After`` (seconds). A Redis failure lets the request through
(logged): a rate limit must not take the API down with Redis.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from dataclasses import dataclass
from typing import Final

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from scaisend.settings import Settings

logger = logging.getLogger(__name__)


class Per(enum.StrEnum):
    """What a limit counts requests of."""

    TENANT = "tenant"
    CREDENTIAL = "credential"
    CLIENT_AND_MESSAGE = "client"  # public tracking routes: client address and message
    CLIENT_ADDRESS = "address"  # unauthenticated sign-in routes: the client address


@dataclass(frozen=True)
class Limit:
    name: str  # the setting that holds it
    per: Per


# docs/security.md, D46: (method, route path) → the limit; any other authenticated route meets DEFAULT.
ROUTE_LIMITS: Final = {
    ("POST", "/v3/mail/send"): Limit("RATE_LIMIT_MAIL_SEND", Per.TENANT),
    ("POST", "/v3/user/webhooks"): Limit("RATE_LIMIT_WEBHOOKS_CREATE", Per.TENANT),
    ("POST", "/v3/api_keys"): Limit("RATE_LIMIT_API_KEYS_CREATE", Per.TENANT),
    ("GET", "/v3/messages"): Limit("RATE_LIMIT_MESSAGES_LIST", Per.CREDENTIAL),
}
DEFAULT: Final = Limit("RATE_LIMIT_DEFAULT", Per.CREDENTIAL)
TRACKING: Final = Limit("RATE_LIMIT_TRACKING", Per.CLIENT_AND_MESSAGE)
SIGNIN: Final = Limit("RATE_LIMIT_SIGNIN", Per.CLIENT_ADDRESS)


def limit_for(method: str, route_path: str) -> Limit:
    return ROUTE_LIMITS.get((method.upper(), route_path), DEFAULT)


def parse_limit(text: str) -> RateLimitItem:
    """``10/minute``, ``1000/second``, ``100 per 10 seconds`` (the ``limits`` notation); ValueError otherwise."""
    return parse(text)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix seconds, rounded up
    window: int  # seconds; Retry-After never asks for more (the rounding of ``reset`` could add one)

    def headers(self, now: float | None = None) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            wait = self.reset - (time.time() if now is None else now)
            headers["Retry-After"] = str(min(self.window, max(1, math.ceil(wait))))
        return headers


class RateLimiter:
    """Fixed-window counters in the process's Redis (sharing its connection pool), keys under
    ``<REDIS_QUEUE_PREFIX>ratelimit``."""

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.enabled = settings.RATE_LIMITS_ENABLED
        self._items = {
            limit.name: parse_limit(getattr(settings, limit.name))
            for limit in (*ROUTE_LIMITS.values(), DEFAULT, TRACKING, SIGNIN)
        }
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{settings.REDIS_QUEUE_PREFIX}ratelimit",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # documented option, narrow stub
        )
        self._storage = storage

    async def hit(self, limit: Limit, *identity: str) -> Decision | None:
        """Count one request against ``limit`` for ``identity``; ``None`` when limits are off or Redis failed."""
        if not self.enabled:
            return None
        item = self._items[limit.name]
        key = item.key_for(limit.per.value, *identity)
        try:
            # limits' fixed window (FixedWindowRateLimiter.hit), keeping the count the increment returns, so the
            # remaining number is exact under concurrency (a second read could see later requests).
            count = await self._storage.incr(key, item.get_expiry())
            reset = await self._storage.get_expiry(key)
        except RedisError:
            logger.warning("rate limit not checked: Redis failed", exc_info=True, extra={"limit": limit.name})
            return None
        allowed, remaining = count <= item.amount, max(0, item.amount - count)
        return Decision(allowed, item.amount, remaining, math.ceil(reset), item.get_expiry())
