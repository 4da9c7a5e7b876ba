"""Dashboard 4 of the operations guide (docs/observability.md, docs/runbooks.md, D2): the three queues on one chart, against the ceiling of
``ScaiSendQueueDepthHigh``, with the consumers' throughput beside it."""

from __future__ import annotations

from typing import Any, Final

from alerts.config import CONFIG
from dashboards import queries as q
from dashboards.common import EXPORTER, JOB_RUNNERS, RATE, SMTP, Query, build, stat, timeseries
from scaisend import metrics

UID: Final = "scaisend-queues"
TITLE: Final = "ScaiSend / Queues"


def dashboard() -> dict[str, Any]:
    depth = q.queue_depth((EXPORTER,))
    return build(
        UID,
        TITLE,
        "Depth of email:process, smtp:deliver and webhook:deliver (ZCARD, from the exporter).",
        [
            (
                10,
                [
                    timeseries(
                        f"Queue depth (ceiling {CONFIG.queue_depth_ceiling})",
                        [Query(depth, "{{queue}}")],
                        "short",
                        threshold=CONFIG.queue_depth_ceiling,
                    ),
                ],
            ),
            (
                9,
                [
                    timeseries(
                        "Jobs finished per second, by queue and outcome",
                        [
                            Query(
                                q.counter_rate(
                                    metrics.WORKER_JOBS_SPEC.name, (JOB_RUNNERS,), RATE, by=("queue", "outcome")
                                ),
                                "{{queue}} {{outcome}}",
                            ),
                        ],
                        "ops",
                    ),
                    timeseries(
                        "Queue growth (jobs/s, 15m slope)",
                        [
                            Query(q.queue_growth((EXPORTER,), CONFIG.queue_growth_window), "{{queue}}"),
                        ],
                        "ops",
                    ),
                ],
            ),
            (
                5,
                [
                    stat("Queued now", Query(depth, "{{queue}}"), "short", threshold=CONFIG.queue_depth_ceiling),
                    stat("Messages waiting for an SMTP retry", Query(q.retry_queue_depth((SMTP,))), "short"),
                ],
            ),
        ],
    )
