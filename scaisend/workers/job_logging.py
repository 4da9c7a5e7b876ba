"""The one place a job's log context is set (issue 12, D56): every arq function and cron a worker process serves is
wrapped so that it

- takes the ``correlation`` keyword its enqueuer attached (:func:`scaisend.logs.job_fields`) and runs inside
  :func:`scaisend.logs.correlated` with exactly those fields (nothing leaks from one job to the next);
- logs structured ``job started`` / ``job finished`` / ``job retry`` / ``job failed`` lines with ``job_id``,
  ``job_function``, ``queue``, ``job_try``, ``queue_wait_ms``, ``duration_ms`` and ``outcome``, in place of arq's
  text lines (``→``, ``←``, ``↻``, ``!``), which :class:`ArqJobLineFilter` drops;
- counts every queued job (not the crons) in ``scaisend_worker_jobs_total{queue, outcome}`` and times it in
  ``scaisend_worker_job_duration_seconds{queue}``, the same way on all three queues (D68): ``retry`` when it raised
  arq's ``Retry``, ``failure`` when it raised anything else or returned a result whose ``job_outcome`` says so (a
  message the compose job could not render), ``success`` otherwise.

A job enqueued by an older release (no ``correlation`` keyword) runs with no fields until its stage binds the
message's ids.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, Retry

from scaisend.logs import JOB_CORRELATION_KWARG, correlated
from scaisend.metrics import JOB_OUTCOMES, WORKER_JOB_DURATION, WORKER_JOBS

logger = logging.getLogger("scaisend.jobs")

_OUTCOME_LIMIT = 200
# arq.worker's per-job text lines, replaced by the structured lines below (arq/worker.py run_job)
_ARQ_JOB_FORMATS = ("%6.2fs → ", "%6.2fs ← ", "%6.2fs ↻ %s retrying", "%6.2fs ! %s failed")


class ArqJobLineFilter(logging.Filter):
    """Drops arq's per-job text lines; everything else arq logs (start-up, expired jobs, max tries) passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_ARQ_JOB_FORMATS))


def _queue_wait_ms(ctx: dict[str, Any]) -> float | None:
    enqueued = ctx.get("enqueue_time")
    if not isinstance(enqueued, datetime):
        return None
    return round((datetime.now(UTC) - enqueued).total_seconds() * 1000, 1)


def job_outcome(result: Any) -> str:
    """The ``outcome`` label of a job that returned ``result``: its own ``job_outcome`` if it has one."""
    outcome = getattr(result, "job_outcome", "success")
    return outcome if outcome in JOB_OUTCOMES else "success"


class JobMetrics:
    """The job metrics of one queue, every outcome's series created at 0 when the queue's jobs are registered."""

    def __init__(self, queue: str) -> None:
        self._jobs = {outcome: WORKER_JOBS.labels(queue, outcome) for outcome in JOB_OUTCOMES}
        self._duration = WORKER_JOB_DURATION.labels(queue)

    def observe(self, outcome: str, seconds: float) -> None:
        self._jobs[outcome].inc()
        self._duration.observe(seconds)


def wrap(coroutine: WorkerCoroutine, name: str, queue: str, metrics: JobMetrics | None = None) -> WorkerCoroutine:
    """``coroutine`` with its correlation restored, its start and end logged and, with ``metrics``, counted."""

    @functools.wraps(coroutine)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        fields = kwargs.pop(JOB_CORRELATION_KWARG, None)
        with correlated(fields if isinstance(fields, dict) else None, fresh=True):
            job = {"job_id": ctx.get("job_id"), "job_function": name, "queue": queue, "job_try": ctx.get("job_try")}
            logger.info("job started", extra={**job, "queue_wait_ms": _queue_wait_ms(ctx)})
            started = time.perf_counter()

            def took() -> float:
                return round((time.perf_counter() - started) * 1000, 2)

            def count(outcome: str) -> None:
                if metrics is not None:
                    metrics.observe(outcome, time.perf_counter() - started)

            try:
                result = await coroutine(ctx, *args, **kwargs)
            except Retry as exc:
                count("retry")
                defer_s = (exc.defer_score or 0) / 1000
                logger.info("job retry", extra={**job, "duration_ms": took(), "retry_in_s": defer_s})
                raise
            except asyncio.CancelledError:
                logger.warning("job cancelled", extra={**job, "duration_ms": took()})
                raise
            except Exception as exc:
                count("failure")
                logger.exception("job failed", extra={**job, "duration_ms": took(), "error_type": type(exc).__name__})
                raise
            count(job_outcome(result))
            outcome = None if result is None else str(result)[:_OUTCOME_LIMIT]
            logger.info("job finished", extra={**job, "duration_ms": took(), "outcome": outcome})
            return result

    return run


def wrap_functions(functions: Sequence[WorkerCoroutine | Function], queue: str) -> list[Function]:
    """arq functions (bare coroutines get their ``__qualname__`` as name, as arq does) with :func:`wrap` applied and
    counted in the job metrics of ``queue``."""
    metrics = JobMetrics(queue)
    wrapped = []
    for function in functions:
        if not isinstance(function, Function):
            function = Function(function.__qualname__, function, None, None, None, None)
        coroutine = wrap(function.coroutine, function.name, queue, metrics)
        wrapped.append(dataclasses.replace(function, coroutine=coroutine))
    return wrapped


def wrap_cron_jobs(cron_jobs: Sequence[CronJob], queue: str) -> list[CronJob]:
    return [dataclasses.replace(job, coroutine=wrap(job.coroutine, job.name, queue)) for job in cron_jobs]


def install_arq_line_filter() -> None:
    arq_worker = logging.getLogger("arq.worker")
    if not any(isinstance(f, ArqJobLineFilter) for f in arq_worker.filters):
        arq_worker.addFilter(ArqJobLineFilter())
