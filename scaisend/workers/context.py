"""Shared worker plumbing: the typed ``ctx`` filled at start-up (engine, session maker, Redis, HTTP client,
clock, settings) and a runner that serves several arq queues from one process with a ``/metrics`` port."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence

import httpx
from arq.connections import ArqRedis
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker
from prometheus_client import start_http_server
from redis.exceptions import RedisError

from scaisend import metrics
from scaisend.clock import SystemClock
from scaisend.db.session import create_engine, session_maker
from scaisend.job_context import JobContext, as_arq, as_dict
from scaisend.queues import Queues, create_arq_pool, deserialize_job, serialize_job
from scaisend.settings import Settings
from scaisend.workers.database_gate import DatabaseGate
from scaisend.workers.job_logging import install_arq_line_filter, wrap_cron_jobs, wrap_functions
from scaisend.workers.leases import JobLeases
from scaisend.workers.queue_rebuild import QueueRebuilder, StagePass

logger = logging.getLogger(__name__)
POLL_RETRY_MAX = 15.0


async def ping(ctx: JobContext) -> str:
    """A no-op job that lets operators check a queue end to end (``enqueue_job('ping')``)."""
    return "pong"


async def open_context(settings: Settings, redis: ArqRedis) -> JobContext:
    """The process's shared context; ``redis`` (an arq pool) stays the caller's to close."""
    engine = create_engine(settings)
    return {
        "redis": redis,
        "settings": settings,
        "engine": engine,
        "maker": session_maker(engine),
        "http": httpx.AsyncClient(follow_redirects=False),
        "queues": Queues(settings.REDIS_QUEUE_PREFIX),
        "clock": SystemClock(),
    }


async def close_context(ctx: JobContext) -> None:
    await ctx["http"].aclose()
    await ctx["engine"].dispose()


Starter = Callable[[JobContext], Awaitable[Callable[[], Awaitable[None]]]]
"""Starts a side service in the process's loop with the shared ``ctx`` (e.g. the inbound SMTP listener) and
returns the coroutine function that stops it."""


async def serve_queues(
    settings: Settings,
    queues: dict[str, Sequence[WorkerCoroutine | Function]],
    *,
    burst: bool = False,
    cron_jobs: Sequence[CronJob] = (),
    starters: Sequence[Starter] = (),
    stop: asyncio.Event | None = None,
    drain: float = 0.0,
    stage_pass: StagePass | None = None,
) -> None:
    """Run one arq :class:`Worker` per queue key in this process, sharing one context and Redis pool; the cron
    jobs run on the first queue's worker, the starters' services beside them. Every job and cron is wrapped by
    :mod:`scaisend.workers.job_logging` (its correlation fields and structured start/finish lines). Unless ``burst``,
    it runs until ``stop`` is set (SIGINT/SIGTERM set it when none is given), with job leases (a dead process's jobs
    are taken up in seconds), the database gate (job pickup paused while the database cannot be reached) and, given
    ``stage_pass``, the queue rebuilder (:mod:`scaisend.workers.queue_rebuild`: the stage's missing jobs queued again
    at start, after Redis lost its data and every 20 s); then it takes no new job, lets running ones finish for up to
    ``drain`` seconds and hands the rest back to their queues."""
    install_arq_line_filter()
    prefix = settings.REDIS_QUEUE_PREFIX
    pool: ArqRedis = await create_arq_pool(settings.REDIS_URL)
    ctx = await open_context(settings, pool)
    leases = None if burst else JobLeases(pool, settings.REDIS_QUEUE_PREFIX, queue_keys=list(queues))
    workers = [
        Worker(
            functions=wrap_functions(list(functions) or [as_arq(ping)], queue_key.removeprefix(prefix)),
            on_job_start=leases.on_job_start if leases else None,
            on_job_end=leases.on_job_end if leases else None,
            queue_name=queue_key,
            redis_pool=pool,
            ctx=as_dict(ctx),
            burst=burst,
            handle_signals=False,
            keep_result=0,
            poll_delay=0.2 if not burst else 0,
            cron_jobs=wrap_cron_jobs(cron_jobs, queue_key.removeprefix(prefix)) if index == 0 and not burst else None,
            job_serializer=serialize_job,
            job_deserializer=deserialize_job,
        )
        for index, (queue_key, functions) in enumerate(queues.items())
    ]
    stoppers = [await start(ctx) for start in starters]
    if stop is None:
        stop = asyncio.Event()
        if not burst:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
    background = []
    if leases is not None:
        await leases.beat()
        await leases.recover()  # jobs of a process that died before this one started are taken up by the first poll
        background = [
            asyncio.create_task(leases.run()),
            asyncio.create_task(DatabaseGate(ctx["engine"], workers).run()),
        ]
        if stage_pass is not None:
            rebuilder = QueueRebuilder(ctx, leases, stage_pass)
            await rebuilder.start()
            background.append(asyncio.create_task(rebuilder.run()))
    tasks = [asyncio.create_task(w.async_run() if burst else _keep_polling(w)) for w in workers]
    try:
        if burst:
            await asyncio.gather(*tasks)
        else:
            await stop.wait()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await _stop_workers(workers, pool, drain)
        if leases is not None:
            await leases.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for stop_service in stoppers:
            await stop_service()
        await close_context(ctx)
        await pool.aclose()


async def _keep_polling(worker: Worker) -> None:
    """Run the worker's poll loop again after Redis went away (a restart, a failover, a cut connection): arq's loop
    ends on the first Redis error, which left a process that looked alive but took no job. Retries after 1, 2, 4 …
    :data:`POLL_RETRY_MAX` seconds, from 1 again once a loop has run for a minute."""
    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            await worker.async_run()
            return
        except (RedisError, OSError) as exc:
            if time.monotonic() - started > 60:
                delay = 1.0
            logger.warning(
                "queue polling interrupted: Redis unavailable; retrying",
                extra={"queue": worker.queue_name, "retry_in_seconds": delay, "error": repr(exc)},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_RETRY_MAX)


async def _stop_workers(workers: Sequence[Worker], pool: ArqRedis, drain: float) -> None:
    """Take no new job, let running ones finish for up to ``drain`` seconds, then cancel the rest, which arq queues
    again ("cancelled, will be run again"). Not ``Worker.close()``: that closes the Redis pool the workers share."""
    for worker in workers:
        worker.allow_pick_jobs = False
    running = [task for worker in workers for task in worker.tasks.values() if not task.done()]
    if running and drain > 0:
        logger.info("shutting down: waiting for running jobs", extra={"jobs": len(running), "drain_seconds": drain})
        _done, pending = await asyncio.wait(running, timeout=drain)
        if pending:
            logger.warning("shutting down: handing unfinished jobs back to their queues", extra={"jobs": len(pending)})
    for worker in workers:
        worker.handle_sig(signal.SIGTERM)
    for worker in workers:
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        await pool.delete(worker.health_check_key)


def run_process(
    settings: Settings,
    process: metrics.Process,
    metrics_port: int,
    queues: dict[str, Sequence[WorkerCoroutine | Function]],
    *,
    cron_jobs: Sequence[CronJob] = (),
    starters: Sequence[Starter] = (),
    stage_pass: StagePass | None = None,
) -> None:
    """Serve ``/metrics`` for ``process`` (every bounded label combination at 0 from the start, so rates and ratios
    have series before the first job) and run its queues until SIGINT/SIGTERM."""
    metrics.initialise(process)
    start_http_server(metrics_port, addr=settings.METRICS_HOST)
    logger.info("worker starting", extra={"queues": list(queues), "metrics_port": metrics_port})
    asyncio.run(
        serve_queues(
            settings,
            queues,
            cron_jobs=cron_jobs,
            starters=starters,
            drain=settings.shutdown_drain_seconds,
            stage_pass=stage_pass,
        )
    )
    logger.info("worker stopped")
