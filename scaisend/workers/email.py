"""The worker process (``scaisend worker``): serves ``email:process`` and ``webhook:deliver``; metrics on 9101.
Jobs are registered here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence

from arq.cron import cron
from arq.typing import WorkerCoroutine
from arq.worker import Function, func

from scaisend import metrics
from scaisend.compose.tasks import JOB_NAME as COMPOSE_JOB
from scaisend.compose.tasks import MAX_TRIES as COMPOSE_MAX_TRIES
from scaisend.compose.tasks import process_email
from scaisend.db.partitions import maintain_event_partitions
from scaisend.job_context import as_arq
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.webhooks import tasks as webhook_tasks
from scaisend.webhooks.pruning import prune_webhook_deliveries
from scaisend.workers.context import run_process
from scaisend.workers.queue_rebuild import requeue_worker_stages


def worker_queues(queues: Queues) -> dict[str, Sequence[WorkerCoroutine | Function]]:
    """The worker's queues and the jobs registered on each."""
    return {
        queues.email_process: [
            func(as_arq(process_email), name=COMPOSE_JOB, keep_result=0, max_tries=COMPOSE_MAX_TRIES),
        ],
        queues.webhook_deliver: [
            func(
                as_arq(webhook_tasks.deliver_webhook),
                name=webhook_tasks.JOB_NAME,
                keep_result=0,
                max_tries=webhook_tasks.MAX_TRIES,
            ),
        ],
    }


def run(settings: Settings) -> None:
    run_process(
        settings,
        metrics.WORKER,
        settings.WORKER_METRICS_PORT,
        worker_queues(Queues(settings.REDIS_QUEUE_PREFIX)),
        stage_pass=requeue_worker_stages,
        cron_jobs=[
            cron(
                as_arq(webhook_tasks.flush_event_webhooks),
                name="flush_event_webhooks",
                second=webhook_tasks.FLUSH_SECONDS,
            ),
            cron(
                as_arq(maintain_event_partitions),
                name="maintain_event_partitions",
                hour=2,
                minute=17,
                second=0,
                run_at_startup=True,
            ),
            cron(as_arq(prune_webhook_deliveries), name="prune_webhook_deliveries", hour=2, minute=47, second=0),
        ],
    )
