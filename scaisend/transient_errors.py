"""What a transient error is, and the one retry wrapper every queued job uses (D65).

A transient error is trouble with the database or Redis that a later run of the same job can get past: a deadlock
or lock-wait timeout, a lost or refused connection, a pool timeout, a Redis failover. Everything else (an
``IntegrityError``, a bug, a corrupt row) is not transient: re-running the job would fail the same way, so the job
handles or reports it instead of being retried.

:func:`retry_transient` turns a transient error into arq's ``Retry``, deferred by ``step`` seconds × the job's try
number (2 s, 4 s, 6 s … for ``step=2``), until arq's ``max_tries`` for the job is spent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Concatenate, Final, ParamSpec, TypeVar

from arq.worker import Retry
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc

from scaisend.job_context import JobContext

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: Final[tuple[type[BaseException], ...]] = (
    # MySQL/MariaDB deadlocks (1213), lock-wait timeouts (1205), lost or refused connections (2003, 2006, 2013).
    sa_exc.OperationalError,
    # The driver's connection was closed under it.
    sa_exc.InterfaceError,
    # No connection free in the pool in time.
    sa_exc.TimeoutError,
    # Redis unreachable, timed out, still loading its data set, or a replica after a failover.
    redis_exc.ConnectionError,
    redis_exc.TimeoutError,
    redis_exc.ReadOnlyError,
    # Socket errors that escape the drivers' own wrapping (reset, refused; the built-in TimeoutError is an OSError).
    OSError,
)
"""Errors a later run of the same job can get past. ``IntegrityError`` is deliberately absent: a duplicate key is
either expected (and handled where it happens) or a bug."""

P = ParamSpec("P")
R = TypeVar("R")

Job = Callable[Concatenate[JobContext, P], Awaitable[R]]


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def retry_delay(ctx: JobContext, step: int) -> int:
    """Seconds until the next run after a transient error: ``step`` × the job's try number (1 for the first run)."""
    return step * int(ctx.get("job_try") or 1)


def retry_transient(step: int) -> Callable[[Job[P, R]], Job[P, R]]:
    """Decorate a queued job so that a transient error becomes arq's ``Retry`` after :func:`retry_delay`; any other
    error passes through unchanged (arq records the job as failed and does not run it again)."""

    def decorate(job: Job[P, R]) -> Job[P, R]:
        @functools.wraps(job)
        async def run(ctx: JobContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await job(ctx, *args, **kwargs)
            except TRANSIENT_ERRORS as exc:
                defer = retry_delay(ctx, step)
                logger.warning(
                    "transient error; job will run again",
                    exc_info=True,
                    extra={"job_try": ctx.get("job_try"), "retry_in_s": defer, "error_type": type(exc).__name__},
                )
                raise Retry(defer=defer) from exc

        run.retries_transient = step  # type: ignore[attr-defined]  # read by the registration test
        return run

    return decorate
