"""Dashboard 5 of the operations guide (docs/observability.md, docs/runbooks.md): API latency p50/p95/p99 for ``/v3/mail/send``, with its
traffic by status class and the 5xx ratio of ``ScaiSendApi5xxRatioHigh``."""

from __future__ import annotations

from typing import Any, Final

from alerts.config import CONFIG
from dashboards import queries as q
from dashboards.common import API, RATE, Query, build, request_logs, stat, timeseries
from scaisend import processes

UID: Final = "scaisend-api-latency"
TITLE: Final = "ScaiSend / API latency (/v3/mail/send)"
QUANTILES: Final = (0.5, 0.95, 0.99)


def dashboard() -> dict[str, Any]:
    send = (API, q.MAIL_SEND)
    return build(
        UID,
        TITLE,
        "Latency percentiles from scaisend_http_request_duration_seconds.",
        [
            (
                10,
                [
                    timeseries(
                        "POST /v3/mail/send latency",
                        [Query(q.http_latency(quantile, send, RATE), f"p{quantile * 100:g}") for quantile in QUANTILES],
                        "s",
                    ),
                ],
            ),
            (
                9,
                [
                    timeseries(
                        "/v3/mail/send requests by status class",
                        [
                            Query(q.http_request_rate(send, RATE, by=("status_class",)), "{{status_class}}"),
                        ],
                        "reqps",
                        stacked=True,
                    ),
                    timeseries(
                        "Requests per route (top traffic)",
                        [
                            Query(f"topk(10, {q.http_request_rate((API,), RATE, by=('route',))})", "{{route}}"),
                        ],
                        "reqps",
                    ),
                ],
            ),
            (
                5,
                [
                    stat(
                        "5xx ratio, all routes",
                        Query(q.http_5xx_ratio((API,), RATE)),
                        "percentunit",
                        threshold=CONFIG.api_5xx_ratio,
                    ),
                    stat("p99 /v3/mail/send", Query(q.http_latency(0.99, send, RATE)), "s"),
                ],
            ),
            (
                12,
                [
                    request_logs(
                        "Log lines of request $request_id (API, worker, SMTP)",
                        [processes.API.name, processes.WORKER.name, processes.SMTP.name],
                        description="Type an X-Request-ID into the Request id box: its access line, the send's "
                        "message ids, and every compose, delivery, inbound and webhook line of those messages.",
                    ),
                ],
            ),
        ],
    )
