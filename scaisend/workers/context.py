"""Shared worker plumbing: the typed ``ctx`` filled at start-up (engine, session maker, Redis, HTTP client,
clock, settings) and a runner that serves several arq queues from one process with a ``/metrics`` port."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
from arq.connections import ArqRedis
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker
from prometheus_client import start_http_server

from scaisend import metrics
from scaisend.clock import SystemClock
from scaisend.db.session import create_engine, session_maker
from scaisend.queues import Queues, create_arq_pool, deserialize_job, serialize_job
from scaisend.settings import Settings

logger = logging.getLogger(__name__)


async def ping(ctx: dict[str, Any]) -> str:
    """A no-op job that lets operators check a queue end to end (``enqueue_job('ping')``)."""
    return "pong"


async def open_context(settings: Settings) -> dict[str, Any]:
    engine = create_engine(settings)
    return {
        "settings": settings,
        "engine": engine,
        "maker": session_maker(engine),
        "http": httpx.AsyncClient(follow_redirects=False),
        "queues": Queues(settings.REDIS_QUEUE_PREFIX),
        "clock": SystemClock(),
    }


async def close_context(ctx: dict[str, Any]) -> None:
    await ctx["http"].aclose()
    await ctx["engine"].dispose()


Starter = Callable[[dict[str, Any]], Awaitable[Callable[[], Awaitable[None]]]]
"""Starts a side service in the process's loop with the shared ``ctx`` (e.g. the inbound SMTP listener) and
returns the coroutine function that stops it."""


async def serve_queues(
    settings: Settings,
    queues: dict[str, Sequence[WorkerCoroutine | Function]],
    *,
    burst: bool = False,
    cron_jobs: Sequence[CronJob] = (),
    starters: Sequence[Starter] = (),
) -> None:
    """Run one arq :class:`Worker` per queue key in this process, sharing one context and Redis pool; the cron
    jobs run on the first queue's worker, the starters' services beside them."""
    ctx = await open_context(settings)
    pool: ArqRedis = await create_arq_pool(settings.REDIS_URL)
    ctx["redis"] = pool
    workers = [
        Worker(
            functions=list(functions) or [ping],
            queue_name=queue_key,
            redis_pool=pool,
            ctx=ctx,
            burst=burst,
            handle_signals=False,
            keep_result=0,
            poll_delay=0.2 if not burst else 0,
            cron_jobs=list(cron_jobs) if index == 0 and not burst else None,
            job_serializer=serialize_job,
            job_deserializer=deserialize_job,
        )
        for index, (queue_key, functions) in enumerate(queues.items())
    ]
    stoppers = [await start(ctx) for start in starters]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if not burst:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(w.async_run()) for w in workers]
    try:
        if burst:
            await asyncio.gather(*tasks)
        else:
            await stop.wait()
    finally:
        for worker in workers:
            await worker.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for stop_service in stoppers:
            await stop_service()
        await close_context(ctx)
        await pool.aclose()


def run_process(
    settings: Settings,
    process: metrics.Process,
    metrics_port: int,
    queues: dict[str, Sequence[WorkerCoroutine | Function]],
    *,
    cron_jobs: Sequence[CronJob] = (),
    starters: Sequence[Starter] = (),
) -> None:
    """Serve ``/metrics`` for ``process`` (every bounded label combination at 0 from the start, so rates and ratios
    have series before the first job) and run its queues until SIGINT/SIGTERM."""
    metrics.initialise(process)
    start_http_server(metrics_port, addr=settings.METRICS_HOST)
    logger.info("worker starting", extra={"queues": list(queues), "metrics_port": metrics_port})
    asyncio.run(serve_queues(settings, queues, cron_jobs=cron_jobs, starters=starters))
