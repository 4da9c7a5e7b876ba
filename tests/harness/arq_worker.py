"""A burst arq worker as the tests run one: on one queue, with ScaiSend's JSON job serializer (D49), no signal
handlers, results not kept, closed without the DeprecationWarning of the redis-py ``close()`` arq 0.26 calls
(pytest turns warnings into errors). Used where a test needs arq's own ``Worker`` rather than
``scaisend.workers.context.serve_queues`` (a hand-written job record, ``max_burst_jobs``, arq's counters)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker

from scaisend.queues import create_arq_pool, deserialize_job, serialize_job


async def run_burst_worker(
    redis_url: str,
    queue: str,
    functions: Sequence[WorkerCoroutine | Function],
    *,
    ctx: dict[str, Any] | None = None,
    max_burst_jobs: int = -1,
) -> Worker:
    """Run the jobs of ``queue`` that are due now (up to ``max_burst_jobs``) and return the finished worker (its
    ``jobs_complete``, ``jobs_failed``…). The worker has a Redis pool of its own, closed at the end."""
    worker = Worker(
        functions=functions,
        queue_name=queue,
        redis_pool=await create_arq_pool(redis_url),
        ctx=ctx,
        burst=True,
        max_burst_jobs=max_burst_jobs,
        poll_delay=0,
        handle_signals=False,
        keep_result=0,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
    )
    try:
        await worker.async_run()
    finally:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()
    return worker
