"""Dashboard 1 of the operations guide (docs/observability.md, docs/runbooks.md): send rate against delivery rate.

Process counters give the rates (they carry no tenant label); the exporter's per-tenant gauges give today's totals
for the selected tenants.
"""

from __future__ import annotations

from typing import Any, Final

from dashboards import queries as q
from dashboards.common import (
    API,
    EXPORTER,
    RATE,
    SMTP,
    TENANT,
    WORKER,
    Query,
    build,
    request_logs,
    stat,
    timeseries,
)
from scaisend import metrics, processes

UID: Final = "scaisend-send-delivery"
TITLE: Final = "ScaiSend / Send rate vs delivery rate"


def dashboard() -> dict[str, Any]:
    processed = q.counter_rate(metrics.PROCESSED_RECIPIENTS_SPEC.name, (WORKER,), RATE)
    delivered = q.counter_rate(metrics.SMTP_DELIVERIES_SPEC.name, (SMTP, 'result="delivered"'), RATE)
    accepted = q.http_request_rate((API, q.MAIL_SEND, 'status_class="2xx"'), RATE)
    tenants = (EXPORTER, TENANT)
    return build(
        UID,
        TITLE,
        "Recipients taken by the worker against recipients delivered by the SMTP service (both per recipient, D5).",
        [
            (
                9,
                [
                    timeseries(
                        "Processed vs delivered (recipients/s)",
                        [
                            Query(processed, "processed"),
                            Query(delivered, "delivered"),
                            Query(accepted, "send API calls"),
                        ],
                        "ops",
                        description=(
                            "processed: recipients given a processed event (to, cc and bcc); delivered: recipients "
                            "accepted with a 250 by MX hosts; send API calls: accepted /v3/mail/send requests."
                        ),
                    ),
                    timeseries(
                        "Delivery attempts by result (per second)",
                        [
                            Query(
                                q.counter_rate(metrics.SMTP_DELIVERIES_SPEC.name, (SMTP,), RATE, by=("result",)),
                                "{{result}}",
                            ),
                        ],
                        "ops",
                        stacked=True,
                    ),
                ],
            ),
            (
                9,
                [
                    timeseries(
                        "Requests and delivered today, per tenant",
                        [
                            Query(q.tenant_stat("requests", tenants), "{{tenant}} requests"),
                            Query(q.tenant_stat("delivered", tenants), "{{tenant}} delivered"),
                        ],
                        "short",
                    ),
                ],
            ),
            (
                5,
                [
                    stat(
                        "Delivered / requests today (selected tenants)",
                        Query(q.tenants_ratio("delivered", "requests", tenants)),
                        "percentunit",
                    ),
                    stat("Messages waiting for a retry", Query(q.retry_queue_depth((SMTP,))), "short"),
                    stat(
                        "Deferred today (selected tenants)",
                        Query(f"sum({q.tenant_stat('deferred', tenants)})"),
                        "short",
                    ),
                ],
            ),
            (
                12,
                [
                    request_logs(
                        "Delivery of request $request_id (worker and SMTP lines)",
                        [processes.WORKER.name, processes.SMTP.name],
                        description="Compose, each delivery attempt (MX host, reply, outcome), inbound reports and "
                        "webhook deliveries of the messages of the request id typed into the Request id box.",
                    ),
                ],
            ),
        ],
    )
