"""The SMTP service process (``scaisend smtp``): serves ``smtp:deliver`` and runs the inbound DSN/FBL listener
(``SMTP_INBOUND_PORT``); metrics on 9102."""

from __future__ import annotations

from arq.worker import func

from scaisend import metrics
from scaisend.delivery.runtime import start_delivery_runtime
from scaisend.delivery.tasks import JOB_NAME, JOB_TIMEOUT, MAX_TRIES, deliver_message
from scaisend.inbound.server import start_inbound_server
from scaisend.job_context import as_arq
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.workers.context import run_process
from scaisend.workers.queue_rebuild import requeue_delivery_stage

SMTP_JOBS = [func(as_arq(deliver_message), name=JOB_NAME, max_tries=MAX_TRIES, keep_result=0, timeout=JOB_TIMEOUT)]
SMTP_STARTERS = [start_delivery_runtime, start_inbound_server]


def run(settings: Settings) -> None:
    queues = Queues(settings.REDIS_QUEUE_PREFIX)
    run_process(
        settings,
        metrics.SMTP,
        settings.SMTP_METRICS_PORT,
        {queues.smtp_deliver: SMTP_JOBS},
        starters=SMTP_STARTERS,
        stage_pass=requeue_delivery_stage,
    )
