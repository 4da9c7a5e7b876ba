"""The ``deliver_message`` arq job (stage 3, docs/architecture.md, D27, docs/compose.md, docs/delivery.md, D21 step 4; D10-D14), on ``smtp:deliver``.

Jobs carry ``(message_id, attempt)`` and the id ``deliver_message:<message_id>:<attempt>`` (attempt 1 comes from
the compose stage, each retry enqueues the next). The job reads as a list of named steps:

1. **begin** (one transaction): load the message; stop if it is gone, cancelled or already final, or the attempt
   was superseded or already done (then only make sure the next attempt's job is queued); ``failed`` when its
   tenant is suspended (D52), its content is missing or its sender domain is no longer verified and active; load the DKIM key; find the recipients
   (``to``, ``cc``, ``bcc`` minus those compose dropped) that earlier attempts have not settled; mark it ``sending``.
2. **sign**: DKIM-sign the stored MIME, the request's attachments put back from ``send_requests`` (D70), with the
   sender domain's key (D14).
3. **send**: per recipient domain, concurrently and as one unit (:func:`~scaisend.delivery.concurrency.run_as_one`): MX route → pooled connection → one SMTP transaction per recipient,
   each with its signed return path (D41); each final result goes to the hand-off journal at once (:mod:`~scaisend.delivery.journal`).
4. **decide**: any deferral → the retry policy gives the next attempt's delay, or expiry turns the deferrals into
   soft bounces (D10).
5. **record** (one transaction): events, bounce suppressions, message status (:mod:`~scaisend.delivery.bookkeeping`);
   the events' webhook deliveries and the next attempt are handed off (:mod:`scaisend.db.handoff`), queued after
   its commit.
6. **after commit**: enqueue the next attempt with ``_defer_by``, clear the journal, update the retry gauge.

Each attempt is its own arq job, so arq's ``max_tries`` (:data:`MAX_TRIES`) only counts re-runs of one attempt after
a crash or a transient database/Redis error (:func:`scaisend.transient_errors.retry_transient` raises arq's
``Retry``), never the D10 schedule. An ``IntegrityError`` is not transient: it fails the job (D65).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy import select

from scaisend.compose.attachment_slots import AttachmentUnavailable, fill
from scaisend.compose.recipients import envelope_of
from scaisend.crypto import DecryptionError
from scaisend.db.handoff import hand_off, job_unit_of_work
from scaisend.db.session import unit_of_work
from scaisend.delivery.bookkeeping import Settled, recipient_history, record_results, settle
from scaisend.delivery.concurrency import run_as_one
from scaisend.delivery.dispatcher import deliver_to_domain
from scaisend.delivery.dkim_signer import DkimSigningError
from scaisend.delivery.envelope import ReturnPathSigner, by_domain
from scaisend.delivery.journal import HandoffJournal
from scaisend.delivery.result import DeliveryResult, Outcome
from scaisend.delivery.retry_policy import Expire, next_attempt
from scaisend.delivery.runtime import DeliveryRuntime, delivery_runtime
from scaisend.domains.dkim_keys import DkimKeyMissingError
from scaisend.domains.service import sending_domain, signing_key
from scaisend.job_context import JobContext
from scaisend.logs import bind, job_fields
from scaisend.metrics import RETRY_QUEUE_DEPTH, SMTP_DELIVERIES
from scaisend.models import Message, MessageContent, MessageStatus
from scaisend.queues import (
    DELIVER_MESSAGE,
    DELIVER_MESSAGE_TIMEOUT,
    Queues,
    deliver_message_job,
    deliver_message_job_id,
    enqueue_jobs,
)
from scaisend.tenants.service import suspension_reason
from scaisend.transient_errors import retry_transient

logger = logging.getLogger(__name__)

JOB_NAME = DELIVER_MESSAGE
MAX_TRIES = 10
JOB_TIMEOUT = DELIVER_MESSAGE_TIMEOUT
INFRA_RETRY_DEFER = 30  # seconds × job_try after a transient database or Redis error
FINAL_STATUSES = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.DELIVERED,
        MessageStatus.BOUNCED,
        MessageStatus.FAILED,
        MessageStatus.CANCELLED,
        MessageStatus.SANDBOX,
    }
)


job_id = deliver_message_job_id


async def enqueue_delivery(
    redis: ArqRedis,
    queues: Queues,
    message_id: str,
    attempt: int = 1,
    *,
    defer: timedelta | None = None,
) -> bool:
    """Queue attempt ``attempt`` of a rendered message on ``smtp:deliver`` now (a repair: the hand-off of a
    transaction is :func:`scaisend.db.handoff.hand_off`); ``False`` when that attempt's job is already queued."""
    job = deliver_message_job(message_id, attempt, defer_by=defer, correlation=job_fields(message_id=message_id))
    return bool(await enqueue_jobs(redis, queues, [job]))


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Resume:
    """This attempt was already recorded; only the next attempt's job may be missing."""

    defer: timedelta


@dataclass(frozen=True)
class Attempt:
    message_id: str
    tenant_id: str
    number: int
    created_at: datetime
    mime: bytes
    domain: str
    selector: str
    key_pem: bytes
    pending: list[str]
    earlier: dict[str, Settled]
    journaled: dict[str, DeliveryResult] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    results: list[DeliveryResult]
    delay: timedelta | None = None
    next_attempt_at: datetime | None = None


@retry_transient(INFRA_RETRY_DEFER)
async def deliver_message(ctx: JobContext, message_id: str, attempt: int) -> str:
    """Deliver (or retry, or expire) one attempt of one message; returns a one-line summary."""
    return await _run(ctx, delivery_runtime(ctx), message_id, attempt)


async def _run(ctx: JobContext, rt: DeliveryRuntime, message_id: str, attempt: int) -> str:
    await rt.pool.reap()
    journal = HandoffJournal(ctx["redis"], rt.settings.REDIS_QUEUE_PREFIX)
    start = await _begin(ctx, rt, journal, message_id, attempt)
    if isinstance(start, Skip):
        return start.reason
    if isinstance(start, Resume):
        await enqueue_delivery(ctx["redis"], ctx["queues"], message_id, attempt + 1, defer=start.defer)
        return f"attempt {attempt} already recorded; attempt {attempt + 1} queued"
    signed = _sign(rt, start)
    if isinstance(signed, Skip):
        await _fail_attempt(ctx, start, signed.reason)
        return signed.reason
    fresh = await _send(rt, journal, start, signed)
    plan = _decide(rt, start, [*start.journaled.values(), *fresh])
    for result in plan.results:
        if result.recipient.lower() not in start.journaled:
            SMTP_DELIVERIES.labels(result.outcome.value).inc()
            _log_result(start.number, result)
    settled = await _record(ctx, rt, start, plan)
    await journal.clear(message_id, attempt)
    await _update_retry_gauge(ctx, scheduled=settled and plan.delay is not None)
    counts = {o.value: sum(1 for r in plan.results if r.outcome is o) for o in Outcome if o is not Outcome.FAILED}
    next_at = plan.next_attempt_at.isoformat() if settled and plan.next_attempt_at else None
    logger.info("delivery attempt", extra={"attempt": attempt, **counts, "next_attempt_at": next_at})
    return " ".join(f"{name}={count}" for name, count in counts.items())


def _log_result(attempt: int, result: DeliveryResult) -> None:
    """One line per recipient and attempt: the MX host, its reply and what we made of it. The recipient appears by
    domain only (D58); the address is in the message's events."""
    log = logger.info if result.outcome is Outcome.DELIVERED else logger.warning
    log(
        "delivery result",
        extra={
            "attempt": attempt,
            "recipient_domain": result.recipient.rpartition("@")[2].lower(),
            "mx_host": result.mx_host,
            "reply_code": result.code,
            "enhanced_status": result.enhanced_status,
            "reply": result.response[:500],
            "outcome": result.outcome.value,
            "tls": result.tls,
            "bounce_type": result.bounce_type.value if result.bounce_type else None,
        },
    )


def _fail(message: Message, reason: str) -> Skip:
    message.status = MessageStatus.FAILED.value
    message.error_message = reason
    SMTP_DELIVERIES.labels(Outcome.FAILED.value).inc()
    logger.warning("message failed", extra={"reason": reason})
    return Skip(reason)


async def _begin(
    ctx: JobContext, rt: DeliveryRuntime, journal: HandoffJournal, message_id: str, attempt: int
) -> Attempt | Skip | Resume:
    async with unit_of_work(ctx["maker"]) as session:
        message = await session.scalar(select(Message).where(Message.id == message_id).with_for_update())
        if message is None:
            return Skip("message not found")
        bind(message_id=message.id, tenant_id=message.tenant_id, request_id=message.api_request_id)
        if message.status in FINAL_STATUSES:
            return Skip(f"message is {message.status}")
        if message.status not in (MessageStatus.RENDERED, MessageStatus.SENDING):
            return Skip(f"message is {message.status}, not rendered")
        if message.attempts > attempt:
            return Skip(f"attempt {attempt} superseded by attempt {message.attempts}")
        if message.status == MessageStatus.RENDERED and message.attempts == attempt:
            if message.next_attempt_at is None:  # rendered again since (a user retry): its next job is attempt+1
                return Skip(f"attempt {attempt} already done")
            return Resume(max(message.next_attempt_at - rt.clock.now(), timedelta(0)))
        suspended = await suspension_reason(session, message.tenant_id)
        if suspended is not None:
            return _fail(message, suspended)
        content = await session.get(MessageContent, message_id)
        if content is None:
            return _fail(message, "Rendered message content is missing")
        try:  # the request's attachments go back in from send_requests (D70)
            attachments = await rt.attachments.of(session, message) if content.attachment_slots else []
            mime = fill(content.mime, content.attachment_slots, attachments)
        except AttachmentUnavailable as exc:
            return _fail(message, f"Rendered message content is incomplete: {exc}")
        domain = await sending_domain(session, message.tenant_id, message.from_email)
        if domain is None:
            return _fail(message, "Sender domain not verified")
        try:
            selector, key_pem = await signing_key(session, rt.settings, domain)
        except (DkimKeyMissingError, DecryptionError) as exc:
            return _fail(message, f"DKIM key unavailable: {exc}")
        history = await recipient_history(session, message.tenant_id, message_id, content.created_at)
        everyone = envelope_of(message, history.dropped)
        if not everyone:
            return _fail(message, "Message has no recipients")
        earlier = history.settled
        journaled = await journal.load(message_id, attempt)
        pending = [r for r in everyone if r.lower() not in earlier and r.lower() not in journaled]
        message.status = MessageStatus.SENDING.value
        message.attempts = attempt
        return Attempt(
            message_id,
            message.tenant_id,
            attempt,
            message.created_at,
            mime,
            domain.domain,
            selector,
            key_pem,
            pending,
            earlier,
            journaled,
        )


def _sign(rt: DeliveryRuntime, start: Attempt) -> bytes | Skip:
    try:
        return rt.signer.sign(
            start.mime,
            domain=start.domain,
            selector=start.selector,
            private_key_pem=start.key_pem,
            timestamp=int(rt.clock.now().timestamp()),
        )
    except (DkimSigningError, ValueError) as exc:
        return Skip(f"DKIM signing failed: {exc}")


async def _fail_attempt(ctx: JobContext, start: Attempt, reason: str) -> None:
    async with unit_of_work(ctx["maker"]) as session:
        message = await session.scalar(select(Message).where(Message.id == start.message_id).with_for_update())
        if message is not None and message.status == MessageStatus.SENDING and message.attempts == start.number:
            _fail(message, reason)


async def _send(rt: DeliveryRuntime, journal: HandoffJournal, start: Attempt, data: bytes) -> list[DeliveryResult]:
    signer = ReturnPathSigner.from_settings(rt.settings)

    def return_path(recipient: str) -> str:
        return signer.sender(start.message_id, recipient, rt.settings.BOUNCE_DOMAIN)

    async def one_domain(domain: str, rcpts: list[str]) -> list[DeliveryResult]:
        results = await deliver_to_domain(rt, domain, rcpts, return_path, data)
        try:
            await journal.add(start.message_id, start.number, results)
        except RedisError as exc:  # the events are what matter; the journal only narrows a crash window
            logger.warning("hand-off journal unavailable", extra={"error": repr(exc)})
        return results

    groups = by_domain(start.pending)
    per_domain = await run_as_one(one_domain(domain, rcpts) for domain, rcpts in groups.items())
    return [result for results in per_domain for result in results]


def _decide(rt: DeliveryRuntime, start: Attempt, results: list[DeliveryResult]) -> Plan:
    deferred = [r for r in results if r.outcome is Outcome.DEFERRED]
    if not deferred:
        return Plan(results)
    now = rt.clock.now()
    waits = [r.retry_after for r in deferred if r.retry_after is not None]
    decision = next_attempt(
        rt.retry, attempt=start.number, age=now - start.created_at, wait=max(waits) if waits else None, rng=rt.rng
    )
    if isinstance(decision, Expire):
        logger.info("message expired", extra={"attempt": start.number, "max_age": str(rt.retry.max_age)})
        return Plan([r.expire() if r.outcome is Outcome.DEFERRED else r for r in results])
    return Plan(results, decision.delay, now + decision.delay)


async def _record(ctx: JobContext, rt: DeliveryRuntime, start: Attempt, plan: Plan) -> bool:
    """Events and suppressions always (the mail went out); the status only if this attempt still owns the message."""
    now = rt.clock.now()
    async with job_unit_of_work(ctx) as session:  # its hand-offs (webhooks, the next attempt) queued after the commit
        message = await session.scalar(select(Message).where(Message.id == start.message_id).with_for_update())
        if message is None:
            return False
        await record_results(
            session, message, plan.results, attempt=start.number, now=now, next_attempt_at=plan.next_attempt_at
        )
        if message.status != MessageStatus.SENDING or message.attempts != start.number:
            return False
        settle(
            message, plan.results, start.earlier, attempt=start.number, now=now, next_attempt_at=plan.next_attempt_at
        )
        if plan.delay is not None:
            correlation = job_fields(message_id=start.message_id)
            hand_off(
                session,
                [deliver_message_job(start.message_id, start.number + 1, defer_by=plan.delay, correlation=correlation)],
            )
        return True


GAUGE_EVERY = 1.0  # seconds: the retry gauge is read at most this often per process unless a retry was scheduled


class _GaugeRead:
    at = float("-inf")


async def _update_retry_gauge(ctx: JobContext, *, scheduled: bool) -> None:
    """``smtp_retry_queue_depth``: jobs on ``smtp:deliver`` scheduled for later (arq scores are Unix ms). Read after
    an attempt that scheduled a retry, otherwise at most once per :data:`GAUGE_EVERY` (one Redis command per
    delivery was the price of a gauge scraped every 15 s, D84)."""
    if not scheduled and time.monotonic() - _GaugeRead.at < GAUGE_EVERY:
        return
    _GaugeRead.at = time.monotonic()
    now_ms = int(time.time() * 1000)
    depth = await ctx["redis"].zcount(ctx["queues"].smtp_deliver, now_ms + 1, "+inf")
    RETRY_QUEUE_DEPTH.set(depth)
