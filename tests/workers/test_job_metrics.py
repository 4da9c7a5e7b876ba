"""Job metrics on all three queues (D68): the jobs exactly as the worker and SMTP processes register them, run by a
real burst worker on Redis and MariaDB, are counted in ``scaisend_worker_jobs_total{queue, outcome}`` and timed in
``scaisend_worker_job_duration_seconds{queue}`` by the one job wrapper; ``smtp:deliver`` included."""

from __future__ import annotations

from arq.connections import ArqRedis
from prometheus_client import REGISTRY

from scaisend.metrics import WORKER_JOB_DURATION_SPEC, WORKER_JOBS_SPEC
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.workers.context import serve_queues
from scaisend.workers.email import worker_queues
from scaisend.workers.smtp import SMTP_JOBS


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_every_queue_counts_and_times_its_jobs(own_prefix: Settings, pool: ArqRedis) -> None:
    queues = Queues(own_prefix.REDIS_QUEUE_PREFIX)
    # Each job finds nothing to do: a message or delivery id that does not exist.
    expected = {
        "email:process": ("process_email", ("msg_missing",), "failure"),  # Outcome.NOT_FOUND counts as a failure
        "webhook:deliver": ("deliver_webhook", ("whd_missing",), "success"),
        "smtp:deliver": ("deliver_message", ("msg_missing", 1), "success"),  # "message not found"
    }
    before = {
        queue: (
            sample(WORKER_JOBS_SPEC.name, queue=queue, outcome=outcome),
            sample(WORKER_JOB_DURATION_SPEC.name + "_count", queue=queue),
        )
        for queue, (_job, _args, outcome) in expected.items()
    }
    for queue, (job, args, _outcome) in expected.items():
        await pool.enqueue_job(job, *args, _queue_name=queues.key(queue))

    await serve_queues(own_prefix, {**worker_queues(queues), queues.smtp_deliver: SMTP_JOBS}, burst=True)

    after = {
        queue: (
            sample(WORKER_JOBS_SPEC.name, queue=queue, outcome=outcome),
            sample(WORKER_JOB_DURATION_SPEC.name + "_count", queue=queue),
        )
        for queue, (_job, _args, outcome) in expected.items()
    }
    assert after == {queue: (jobs + 1, timed + 1) for queue, (jobs, timed) in before.items()}
