"""The ``process_email`` jobs the accept stage hands to compose (docs/architecture.md, docs/compose.md, docs/delivery.md, D21, D2; D22, D23): ids only, deferred
to ``send_at``, handed off (:mod:`scaisend.db.handoff`) so they are queued on ``email:process`` only AFTER the
messages are committed.

Job ids (:func:`scaisend.queues.process_email_job_id`): ``process_email:<message_id>`` for the first run, so a
repeated enqueue (the reconciler) is refused by arq while the job is still waiting; ``…:retry-<n>`` for a user's
retry, because arq refuses an id it still knows.

Guarantee: a message is committed ``queued`` before its job exists. If the enqueue then fails (Redis down), the send
still answers 202 and the message stays ``queued``; the worker's reconciler (:mod:`scaisend.workers.queue_rebuild`)
queues it again within about a minute. An accepted message is never lost; at worst it is late.
"""

from __future__ import annotations

from datetime import datetime

from scaisend.logs import job_fields
from scaisend.queues import Job, process_email_job


def process_email_for(
    message_id: str,
    send_at: datetime | None,
    now: datetime,
    retry: int | None = None,
    *,
    tenant_id: str | None = None,
    request_id: str | None = None,
) -> Job:
    """The job of a message, deferred to ``send_at`` when that is still ahead; it carries the message's correlation
    fields (the X-Request-ID that accepted it, D55)."""
    return process_email_job(
        message_id,
        retry=retry,
        defer_until=send_at if send_at is not None and send_at > now else None,
        correlation=job_fields(message_id=message_id, tenant_id=tenant_id, request_id=request_id),
    )
