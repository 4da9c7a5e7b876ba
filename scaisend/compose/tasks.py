"""Stage 2, compose (docs/architecture.md, D27, docs/compose.md, docs/delivery.md, D21 step 3, D5, D15): the ``process_email`` arq job on ``email:process``.

The job reads like a list of named steps (:mod:`scaisend.compose.steps`), all in ONE transaction that holds the
message row locked:

1. load the message; anything but ``queued`` is left alone (cancelled, already done: re-runs are harmless), except
   ``rendered`` before any delivery attempt, whose delivery job is enqueued again in case the first enqueue was lost;
2. a suspended tenant's message ends ``failed`` "Tenant suspended: …" here, with no event (D52); the row's changes
   reach the database as one ``UPDATE`` at the commit (D83: no intermediate ``processing`` is written);
3. suppressions: a ``dropped`` event per suppressed recipient (with its reason), who is then left out; when nobody is
   left the message ends ``failed`` with ``error_message`` "All recipients suppressed" and no ``processed`` event
   (SendGrid counts such a message as a drop, not as processed);
4. ``processed`` (D5, once per message: dedupe key ``processed``);
5. render (template or content); a render error ends the message ``failed`` with the reason; the rendered subject
   replaces the row's (``/v3/messages`` shows what was sent, also for template sends);
6. tracking instrumentation and MIME; bytes stored in ``message_contents``; ``rendered``;
7. hand off (:mod:`scaisend.db.handoff`: queued only after the commit) the webhook deliveries of the events just
   recorded and ``deliver_message(message_id, attempt)`` on ``smtp:deliver`` with job id
   ``deliver_message:<message_id>:<attempt>``,
   where ``attempt`` is 1 for a new message (``messages.attempts + 1``, so a message retried by the user after
   delivery attempts continues the count instead of reusing attempt 1's job id and event dedupe keys).

The worker's reconciler (:mod:`scaisend.workers.queue_rebuild`, every 20 s) enqueues the ``process_email`` job of
messages still ``queued`` after 30 s again (arq refuses the ones whose job still waits), so a lost enqueue only delays
a message.

Database or Redis trouble (a transient error, :mod:`scaisend.transient_errors`) rolls the transaction back and
raises arq's ``Retry`` through :func:`~scaisend.transient_errors.retry_transient`: the job runs again after
:data:`INFRA_RETRY_DEFER` × its try number, up to :data:`MAX_TRIES` tries (the message stays
``queued`` meanwhile; the reconciler re-enqueues it if every try fails). Any other error ends the message
``failed`` instead of being retried forever.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.clock import Clock
from scaisend.compose.content import RenderFailed, render_message
from scaisend.compose.steps import (
    Stopped,
    build_message,
    drop_suppressed,
    fail_unfinished,
    lock_message,
    record_processed,
    remember_subject,
    request_body,
    stop,
    store_mime,
    tenant_stop,
)
from scaisend.db.handoff import hand_off, job_unit_of_work
from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext
from scaisend.logs import bind, job_fields
from scaisend.metrics import RENDER_ERRORS
from scaisend.models import Message, MessageStatus
from scaisend.queues import PROCESS_EMAIL, deliver_message_job
from scaisend.settings import Settings
from scaisend.transient_errors import TRANSIENT_ERRORS, retry_transient

logger = logging.getLogger(__name__)

JOB_NAME = PROCESS_EMAIL
MAX_TRIES = 5
INFRA_RETRY_DEFER = 2  # seconds × job_try after a database or Redis error (a deadlock, a lost connection)


class Outcome(enum.StrEnum):
    RENDERED = "rendered"
    ALREADY_RENDERED = "already_rendered"
    SKIPPED = "skipped"
    NOT_FOUND = "not_found"
    ALL_DROPPED = "all_dropped"
    FAILED = "failed"
    TENANT_SUSPENDED = "tenant_suspended"

    @property
    def job_outcome(self) -> str:
        """The ``outcome`` label of ``scaisend_worker_jobs_total``."""
        return "failure" if self in (Outcome.FAILED, Outcome.NOT_FOUND) else "success"


@dataclass(frozen=True)
class Composed:
    outcome: Outcome
    delivery_attempt: int | None = None  # the deliver_message attempt to enqueue after commit


async def compose_in(session: AsyncSession, settings: Settings, clock: Clock, message_id: str) -> Composed:
    """Every step of the job inside one transaction (the caller commits)."""
    message = await lock_message(session, message_id)
    if message is None:
        return Composed(Outcome.NOT_FOUND)
    bind(message_id=message.id, tenant_id=message.tenant_id, request_id=message.api_request_id)
    if message.status == MessageStatus.RENDERED and not message.attempts:
        return Composed(Outcome.ALREADY_RENDERED, 1)
    if message.status != MessageStatus.QUEUED:
        return Composed(Outcome.SKIPPED)
    outcome = await _compose_queued(session, settings, clock, message)
    return Composed(outcome, (message.attempts or 0) + 1 if outcome is Outcome.RENDERED else None)


async def _compose_queued(session: AsyncSession, settings: Settings, clock: Clock, message: Message) -> Outcome:
    """Steps 2-6 for a ``queued`` message. The row's changes (status, ``processed_at``, subject) reach the database
    as ONE ``UPDATE`` when the transaction commits (D83): no step reads the message row back, and every path ends in
    ``rendered`` or ``failed`` (an intermediate ``processing`` would only ever be seen by this transaction, which
    holds the row locked)."""
    with session.no_autoflush:
        return await _compose_steps(session, settings, clock, message)


async def _compose_steps(session: AsyncSession, settings: Settings, clock: Clock, message: Message) -> Outcome:
    never_composed = message.processed_at is None  # no stored MIME to replace (store_mime)
    suspended = await tenant_stop(session, message)
    if suspended is not None:
        stop(message, suspended)
        return Outcome.TENANT_SUSPENDED
    now = clock.now()
    body = await request_body(session, message)
    recipients = await drop_suppressed(session, message, body, now)
    if isinstance(recipients, Stopped):
        stop(message, recipients)
        return Outcome.ALL_DROPPED
    await record_processed(session, message, recipients, now)
    rendered = await render_message(session, message, body)
    if isinstance(rendered, RenderFailed):
        RENDER_ERRORS.inc()
        logger.warning("render_error", extra={"error": rendered.error, "template_id": message.template_id})
        stop(message, Stopped(rendered.error))
        return Outcome.FAILED
    remember_subject(message, rendered)
    mime = await build_message(session, settings, message, body, rendered, recipients, now)
    if isinstance(mime, Stopped):
        stop(message, mime)
        return Outcome.FAILED
    await store_mime(session, message, mime, now, never_composed=never_composed)
    return Outcome.RENDERED


async def compose_message(ctx: JobContext, message_id: str) -> Outcome:
    """Run the steps, commit, then hand the message to delivery."""
    try:
        async with job_unit_of_work(ctx) as session:
            composed = await compose_in(session, ctx["settings"], ctx["clock"], message_id)
            if composed.delivery_attempt is not None:
                correlation = job_fields(message_id=message_id)
                hand_off(session, [deliver_message_job(message_id, composed.delivery_attempt, correlation=correlation)])
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        logger.exception("compose_error", extra={"error_type": type(exc).__name__})
        async with unit_of_work(ctx["maker"]) as session:
            failed = await fail_unfinished(session, message_id, f"Internal error while composing: {exc}"[:1000])
        return Outcome.FAILED if failed else Outcome.SKIPPED
    logger.info("message composed", extra={"outcome": composed.outcome.value})
    return composed.outcome


@retry_transient(INFRA_RETRY_DEFER)
async def process_email(ctx: JobContext, message_id: str) -> Outcome:
    """arq job ``process_email(message_id)``: compose one accepted message; returns the :class:`Outcome` (counted by
    the job wrapper, ``scaisend.workers.job_logging``)."""
    return await compose_message(ctx, message_id)
