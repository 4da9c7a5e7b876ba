"""The worker process (``scaisend worker``): serves ``email:process`` and ``webhook:deliver``; metrics on 9101.
Jobs are registered here and nowhere else."""

from __future__ import annotations

from arq.worker import func

from scaisend.compose.tasks import MAX_TRIES as COMPOSE_MAX_TRIES
from scaisend.compose.tasks import process_email
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.workers.context import run_process


def run(settings: Settings) -> None:
    queues = Queues(settings.REDIS_QUEUE_PREFIX)
    run_process(settings, settings.WORKER_METRICS_PORT, {
        queues.email_process: [
            func(process_email, name="process_email", keep_result=0, max_tries=COMPOSE_MAX_TRIES),
        ],
        queues.webhook_deliver: [],
    })
