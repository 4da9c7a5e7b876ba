"""The SMTP service process (``scaisend smtp``): serves ``smtp:deliver`` (and, later, the inbound DSN/FBL
listener); metrics on 9102."""

from __future__ import annotations

from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.workers.context import run_process


def run(settings: Settings) -> None:
    queues = Queues(settings.REDIS_QUEUE_PREFIX)
    run_process(settings, settings.SMTP_METRICS_PORT, {queues.smtp_deliver: []})
