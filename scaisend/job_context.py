"""The context every arq job receives: what the worker process opens at start (``scaisend.workers.context``) and
what arq adds for each job. A ``TypedDict`` rather than ``dict[str, Any]`` so that a job reading ``ctx["maker"]``
is type-checked; it lives in the foundation layer because jobs of every feature package take it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypedDict, TypeVar, cast

import httpx
from arq.connections import ArqRedis
from arq.typing import WorkerCoroutine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scaisend.clock import Clock
from scaisend.queues import Queues
from scaisend.settings import Settings


class WorkerContext(TypedDict):
    """Opened once per worker process and shared by its jobs."""

    settings: Settings
    engine: AsyncEngine
    maker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    queues: Queues
    clock: Clock
    redis: ArqRedis


class JobContext(WorkerContext, total=False):
    """A job's view: the process's context plus what arq sets per job, and the SMTP service's delivery runtime
    (``scaisend.delivery.runtime``, built by its starter; typed there)."""

    job_id: str
    job_try: int
    enqueue_time: datetime
    score: int
    delivery: object


P = ParamSpec("P")
R = TypeVar("R")


def as_arq(job: Callable[Concatenate[JobContext, P], Awaitable[R]]) -> WorkerCoroutine:
    """``job`` as arq registers it: arq types ``ctx`` as a plain dict, and the dict it passes holds what
    :class:`JobContext` describes (``scaisend.workers.context.open_context`` fills it)."""
    return cast(WorkerCoroutine, job)


def as_dict(ctx: JobContext) -> dict[str, Any]:
    """The context handed to arq's ``Worker`` (typed there as a plain dict)."""
    return cast(dict[str, Any], ctx)
