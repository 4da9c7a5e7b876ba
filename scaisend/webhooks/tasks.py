"""Stage 5 jobs on ``webhook:deliver`` (docs/architecture.md, D27; docs/webhooks.md, D6-D8), registered in ``scaisend/workers/email.py``:

- ``deliver_webhook(ctx, delivery_id)``: one attempt of one delivery, as named steps: claim (:mod:`.attempts`),
  build and sign the body (:mod:`.outgoing`), check the URL and pin its address (:mod:`.url_guard`), fetch an OAuth
  token if configured (:mod:`.oauth`), POST, record. A retry is the same job deferred by arq to ``next_attempt_at``
  (``_defer_until``, computed from the injected clock) under job id ``deliver_webhook:<id>:<attempt>``;
- ``sweep_webhook_deliveries(ctx)`` (run every 20 s by the worker's reconciler, ``scaisend.workers.queue_rebuild``): enqueues every pending delivery that is due, so a crash
  between commit and enqueue, or a lost job, never loses a webhook;
- ``flush_event_webhooks(ctx)`` (cron, every 5 s): gathers queued Event Webhook events into batches (:mod:`.batching`).
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import urlsplit

from scaisend.db.handoff import job_unit_of_work
from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext
from scaisend.logs import bind, trace_id_var, traceparent
from scaisend.metrics import WEBHOOK_DELIVERIES
from scaisend.queues import DELIVER_WEBHOOK, deliver_webhook_job, enqueue_jobs
from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from scaisend.transient_errors import TRANSIENT_ERRORS, retry_transient
from scaisend.webhooks import repository
from scaisend.webhooks.attempts import Claim, Outcome, claim_attempt, record_attempt
from scaisend.webhooks.batching import FLUSH_EVERY_SECONDS, flush_tenant
from scaisend.webhooks.dispatch import enqueue_attempt
from scaisend.webhooks.oauth import OAuthTokenError, bearer_token, forget_token
from scaisend.webhooks.outgoing import AttemptResult, endpoint_request, event_webhook_request, post
from scaisend.webhooks.repository import DeliveryTarget
from scaisend.webhooks.url_guard import UnsafeWebhookUrlError, check_destination

logger = logging.getLogger(__name__)

JOB_NAME = DELIVER_WEBHOOK

__all__ = ["JOB_NAME", "deliver_webhook", "flush_event_webhooks", "sweep_webhook_deliveries"]

FLUSH_SECONDS: Final = set(range(0, 60, FLUSH_EVERY_SECONDS))  # the flush cron's seconds
SWEEP_LIMIT: Final = 1000
FLUSH_TENANTS_LIMIT: Final = 500
INFRA_RETRY_DEFER: Final = 5  # seconds × job_try after a transient error; the sweep takes over after MAX_TRIES
MAX_TRIES: Final = 3


REQUEST_ID_HEADER: Final = "X-Request-Id"


def correlation_headers(request_id: str | None, trace_id: str | None) -> dict[str, str]:
    """``X-Request-Id`` (the send's request id, D55) and a W3C ``traceparent`` continuing the trace (D57), when
    known; neither is signed, so a receiver may log them but must not trust them."""
    headers = {}
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    if trace_id:
        headers["traceparent"] = traceparent(trace_id)
    return headers


def _request(claim: Claim, timestamp: int) -> tuple[bytes, dict[str, str]]:
    if claim.target is DeliveryTarget.ENDPOINT:
        assert claim.signing_secret is not None
        body, headers = endpoint_request(claim.payload, claim.signing_secret, timestamp)
    else:
        body, headers = event_webhook_request(claim.payload, claim.private_key_pem, timestamp)
    return body, {**headers, **correlation_headers(claim.request_id, trace_id_var.get())}


async def send(ctx: JobContext, claim: Claim) -> AttemptResult:
    """Sign, guard, authorise and POST one claimed attempt."""
    settings: Settings = ctx["settings"]
    body, headers = _request(claim, int(ctx["clock"].now().timestamp()))
    resolver = make_resolver(settings)
    try:
        target = await check_destination(claim.url, settings, resolver)
        if claim.oauth is not None:
            token = await bearer_token(ctx["http"], ctx["redis"], settings, resolver, claim.oauth)
            headers["Authorization"] = f"Bearer {token}"
    except UnsafeWebhookUrlError as exc:
        return AttemptResult(False, None, exc.detail)
    except OAuthTokenError as exc:
        return AttemptResult(False, None, str(exc))
    result = await post(ctx["http"], target, body, headers, settings.webhook_timeout)
    if claim.oauth is not None and result.status_code == 401:
        await forget_token(ctx["redis"], settings, claim.oauth)
    return result


async def deliver(ctx: JobContext, delivery_id: str) -> Outcome:
    """Claim, send and record one attempt; queue the next one when the schedule says so."""
    async with unit_of_work(ctx["maker"]) as session:
        claim = await claim_attempt(session, ctx["settings"], delivery_id, ctx["clock"].now())
    if not isinstance(claim, Claim):
        return claim
    bind(tenant_id=claim.tenant_id, message_id=claim.message_id, request_id=claim.request_id)
    try:
        result = await send(ctx, claim)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:  # a bug or a corrupt row must still end in a recorded, retried attempt
        logger.exception("webhook send error", extra={"delivery_id": delivery_id})
        result = AttemptResult(False, None, f"internal error: {type(exc).__name__}")
    WEBHOOK_DELIVERIES.labels("success" if result.ok else "failure").inc()
    async with unit_of_work(ctx["maker"]) as session:
        recorded = await record_attempt(session, claim, result, ctx["clock"].now())
    if recorded.next_attempt_at is not None:
        await enqueue_attempt(
            ctx["redis"], ctx["queues"], delivery_id, claim.attempt + 1, defer_until=recorded.next_attempt_at
        )
    log = logger.info if result.ok else logger.warning
    log(
        "webhook attempt",
        extra={
            "delivery_id": delivery_id,
            "attempt": claim.attempt,
            "target": claim.target.value,
            "url_host": urlsplit(claim.url).hostname,
            "status_code": result.status_code,
            "error": result.error,
            "outcome": recorded.outcome.value,
        },
    )
    return recorded.outcome


@retry_transient(INFRA_RETRY_DEFER)
async def deliver_webhook(ctx: JobContext, delivery_id: str) -> Outcome:
    """arq job ``deliver_webhook(delivery_id)``: one attempt; returns the :class:`Outcome` (counted by the job
    wrapper). A transient error
    runs the job again (:func:`~scaisend.transient_errors.retry_transient`); after :data:`MAX_TRIES` runs the
    sweep enqueues the delivery again."""
    return await deliver(ctx, delivery_id)


async def sweep_webhook_deliveries(ctx: JobContext) -> int:
    """Cron: enqueue every pending delivery that is due and has no job; returns how many were queued."""
    async with unit_of_work(ctx["maker"]) as session:
        due = await repository.due_deliveries(session, ctx["clock"].now(), SWEEP_LIMIT)
    jobs = [deliver_webhook_job(delivery_id, attempts + 1) for delivery_id, attempts in due]
    queued = await enqueue_jobs(ctx["redis"], ctx["queues"], jobs) if jobs else 0
    if queued:
        logger.info("webhook sweep queued deliveries", extra={"queued": queued, "due": len(due)})
    return queued


async def flush_event_webhooks(ctx: JobContext) -> int:
    """Cron: batch every tenant's queued Event Webhook events; returns how many batch deliveries were made."""
    async with unit_of_work(ctx["maker"]) as session:
        tenants = await repository.queued_tenants(session, FLUSH_TENANTS_LIMIT)
    made = 0
    for tenant_id in tenants:
        async with job_unit_of_work(ctx) as session:
            made += len(await flush_tenant(session, ctx["settings"], tenant_id))
    return made
