"""The worker process (``scaisend worker``): serves ``email:process`` and ``webhook:deliver``; metrics on 9101.
Jobs are registered here and nowhere else."""

from __future__ import annotations

from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.workers.context import run_process


def run(settings: Settings) -> None:
    queues = Queues(settings.REDIS_QUEUE_PREFIX)
    run_process(settings, settings.WORKER_METRICS_PORT, {queues.email_process: [], queues.webhook_deliver: []})
