"""The long-lived resources of an API process, built once by ``create_app(settings)`` and closed at shutdown.

The arq pool (for enqueueing jobs) is created on first use by :meth:`Resources.arq_pool`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scaisend.api.rate_limits import RateLimiter
from scaisend.auth.jwt import JwksCache
from scaisend.clock import Clock, SystemClock
from scaisend.db.session import create_engine, session_maker
from scaisend.queues import Queues, create_arq_pool
from scaisend.settings import Settings


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    maker: async_sessionmaker[AsyncSession]
    redis: Redis
    http: httpx.AsyncClient
    queues: Queues
    jwks: JwksCache | None
    rate_limiter: RateLimiter
    clock: Clock = field(default_factory=SystemClock)
    arq: ArqRedis | None = None
    _arq_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Resources:
        engine = create_engine(settings)
        http = httpx.AsyncClient(follow_redirects=False)
        redis = Redis.from_url(settings.REDIS_URL)
        return cls(
            settings=settings,
            engine=engine,
            maker=session_maker(engine),
            redis=redis,
            http=http,
            queues=Queues(settings.REDIS_QUEUE_PREFIX),
            jwks=JwksCache(settings.SCAIKEY_JWKS_URL, http) if settings.SCAIKEY_JWKS_URL else None,
            rate_limiter=RateLimiter(settings, redis),
            clock=clock or SystemClock(),
        )

    async def arq_pool(self) -> ArqRedis:
        """The process's arq pool, connected on first use."""
        if self.arq is None:
            async with self._arq_lock:
                if self.arq is None:
                    self.arq = await create_arq_pool(self.settings.REDIS_URL)
        return self.arq

    async def aclose(self) -> None:
        if self.arq is not None:
            await self.arq.aclose()
            self.arq = None
        await self.http.aclose()
        await self.redis.aclose()
        await self.engine.dispose()
