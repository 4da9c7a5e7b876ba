"""The long-lived resources of an API process, built once by ``create_app(settings)`` and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scaisend.auth.jwt import JwksCache
from scaisend.clock import Clock, SystemClock
from scaisend.db.session import create_engine, session_maker
from scaisend.queues import Queues
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
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Resources:
        engine = create_engine(settings)
        http = httpx.AsyncClient(follow_redirects=False)
        return cls(
            settings=settings,
            engine=engine,
            maker=session_maker(engine),
            redis=Redis.from_url(settings.REDIS_URL),
            http=http,
            queues=Queues(settings.REDIS_QUEUE_PREFIX),
            jwks=JwksCache(settings.SCAIKEY_JWKS_URL, http) if settings.SCAIKEY_JWKS_URL else None,
            clock=clock or SystemClock(),
        )

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.redis.aclose()
        await self.engine.dispose()
