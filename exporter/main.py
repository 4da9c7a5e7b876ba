"""``scaisend exporter``: serves ``/metrics`` (and ``/health``) on ``EXPORTER_PORT`` (9103) from one process.

Its database connections carry a server-side statement limit (``DATABASE_STATEMENT_TIMEOUT_MS``: MariaDB
``max_statement_time``, MySQL ``max_execution_time``) and every collector runs under the same deadline, so a slow
MySQL never hangs a scrape."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from redis.asyncio import Redis
from sqlalchemy import event
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exporter.collectors.base import Sources
from exporter.exporter import scrape
from exporter.exposition import CONTENT_TYPE, render
from scaisend.clock import SystemClock
from scaisend.db.session import create_engine, session_maker
from scaisend.queues import Queues
from scaisend.reputation.monitor import ReputationMonitor
from scaisend.resolver import make_resolver
from scaisend.settings import Settings


def build_sources(settings: Settings) -> Sources:
    engine = create_engine(settings)
    if not settings.is_sqlite:
        # MariaDB is what Debian ships as MySQL; MySQL 8 is told apart by its server version on first connect.
        is_mariadb = True

        @event.listens_for(engine.sync_engine, "first_connect")
        def _detect(dbapi_connection: Any, _record: Any) -> None:
            nonlocal is_mariadb
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT VERSION()")
            is_mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
            cursor.close()

        @event.listens_for(engine.sync_engine, "connect")
        def _limit(dbapi_connection: Any, _record: Any) -> None:
            timeout_ms = settings.DATABASE_STATEMENT_TIMEOUT_MS
            cursor = dbapi_connection.cursor()
            if is_mariadb:
                cursor.execute(f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {timeout_ms}")
            cursor.close()

    clock = SystemClock()
    monitor = None
    if settings.REPUTATION_CHECKS_ENABLED:
        monitor = ReputationMonitor(settings, make_resolver(settings), session_maker(engine))
    return Sources(
        engine=engine,
        redis=Redis.from_url(settings.REDIS_URL, socket_timeout=5),
        queues=Queues(settings.REDIS_QUEUE_PREFIX),
        now=clock.now,
        reputation=monitor,
    )


def create_exporter_app(settings: Settings, sources: Sources | None = None) -> Starlette:
    src = sources or build_sources(settings)
    timeout = settings.DATABASE_STATEMENT_TIMEOUT_MS / 1000

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(render(await scrape(src, timeout)), media_type=CONTENT_TYPE)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        monitor = asyncio.create_task(src.reputation.run_forever()) if src.reputation is not None else None
        yield
        if monitor is not None:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
        await src.redis.aclose()
        await src.engine.dispose()

    return Starlette(routes=[Route("/metrics", metrics_endpoint), Route("/health", health)], lifespan=lifespan)


def run(settings: Settings) -> None:
    uvicorn.run(
        create_exporter_app(settings),
        host=settings.METRICS_HOST,
        port=settings.EXPORTER_PORT,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds),
    )
