"""The bookkeeping around one delivery attempt (docs/webhooks.md, D6): claim it, then record what the POST achieved. Each
step runs in its own short transaction, so no row lock is held while the POST is in flight.

Claim: the delivery must be ``pending`` and due, and its target still enabled (a delivery for a disabled endpoint or
a turned-off Event Webhook ends ``failed``). ``attempts`` is incremented and ``next_attempt_at`` pushed past the
attempt's deadline (a lease), so a duplicate job or the sweep cannot start the same attempt twice.

Record: a 2xx ends the delivery ``succeeded`` and resets the endpoint's ``failure_count``; a failure stores
``last_status_code``/``last_error`` and schedules the next attempt (:mod:`.retry_policy`) or ends the delivery
``failed`` after the 6th. Endpoint failures count consecutively across deliveries; the 10th disables the endpoint
(``enabled=false``, ``disabled_at``) and ends its other pending deliveries.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.models import Message, WebhookDelivery
from scaisend.settings import Settings
from scaisend.webhooks import repository, retry_policy
from scaisend.webhooks.outgoing import AttemptResult
from scaisend.webhooks.repository import DeliveryStatus, DeliveryTarget
from scaisend.webhooks.stored_secrets import OAuthClient, Purpose, oauth_client, unseal

ENDPOINT_DISABLED = f"endpoint disabled after {retry_policy.AUTO_DISABLE_AFTER} consecutive failures"


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"  # the 6th attempt failed
    ENDPOINT_DISABLED = "endpoint_disabled"  # this failure disabled the endpoint
    TARGET_DISABLED = "target_disabled"  # the endpoint or Event Webhook was off when the attempt was due
    NOT_FOUND = "not_found"
    FINISHED = "finished"  # already succeeded or failed
    NOT_DUE = "not_due"  # a duplicate job, or one whose attempt another job is running
    SUPERSEDED = "superseded"  # the row changed while the POST was in flight (deleted, disabled)

    @property
    def job_outcome(self) -> str:
        """The ``outcome`` label of ``scaisend_worker_jobs_total``."""
        if self is Outcome.RETRY:
            return "retry"
        if self in (Outcome.FAILED, Outcome.ENDPOINT_DISABLED, Outcome.TARGET_DISABLED):
            return "failure"
        return "success"


@dataclass(frozen=True)
class Claim:
    """One attempt, taken: everything the POST needs, read while the row was locked."""

    delivery_id: str
    tenant_id: str
    attempt: int
    target: DeliveryTarget
    endpoint_id: str | None
    url: str
    payload: Any
    signing_secret: str | None = None
    private_key_pem: str | None = None
    oauth: OAuthClient | None = None
    message_id: str | None = None  # the one message the payload is about (an Event Webhook batch may have several)
    request_id: str | None = None  # that message's X-Request-ID (D55): logged and sent as X-Request-Id


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    next_attempt_at: datetime | None = None


def _end(row: WebhookDelivery, error: str) -> None:
    row.status = DeliveryStatus.FAILED.value
    row.last_error = error
    row.next_attempt_at = None


async def _target(session: AsyncSession, settings: Settings, row: WebhookDelivery) -> dict[str, Any] | str:
    """The claim's target fields, or why the target cannot receive."""
    if row.target == DeliveryTarget.ENDPOINT:
        endpoint = await repository.get_endpoint(session, row.tenant_id, row.endpoint_id or "")
        if endpoint is None or not endpoint.enabled:
            return "endpoint disabled"
        return {
            "url": endpoint.url,
            "signing_secret": unseal(settings, Purpose.SIGNING_SECRET, endpoint.signing_secret_encrypted),
            "oauth": oauth_client(
                settings, endpoint.oauth_client_id, endpoint.oauth_client_secret_encrypted, endpoint.oauth_token_url
            ),
        }
    config = await repository.event_webhook_settings(session, row.tenant_id)
    if config is None or not config.enabled or not config.url:
        return "Event Webhook disabled"
    key = config.private_key_encrypted if config.signed else None
    return {
        "url": config.url,
        "private_key_pem": unseal(settings, Purpose.EVENT_WEBHOOK_KEY, key) if key else None,
        "oauth": oauth_client(
            settings, config.oauth_client_id, config.oauth_client_secret_encrypted, config.oauth_token_url
        ),
    }


def payload_message_id(payload: Any) -> str | None:
    """The message an endpoint envelope (``message_id``) or an Event Webhook batch (``sg_message_id`` of each event)
    is about, when there is exactly one."""
    events = payload if isinstance(payload, list) else [payload]
    ids = {str(e.get("message_id") or e.get("sg_message_id") or "") for e in events if isinstance(e, dict)}
    ids.discard("")
    return ids.pop() if len(ids) == 1 else None


async def claim_attempt(session: AsyncSession, settings: Settings, delivery_id: str, now: datetime) -> Claim | Outcome:
    """Take the next attempt of a delivery, or say why there is none to make."""
    row = await repository.lock_delivery(session, delivery_id)
    if row is None:
        return Outcome.NOT_FOUND
    if row.status != DeliveryStatus.PENDING:
        return Outcome.FINISHED
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return Outcome.NOT_DUE
    if row.attempts >= retry_policy.MAX_ATTEMPTS:  # the last attempt never recorded a result (worker crash)
        _end(row, row.last_error or "no result recorded for the last attempt")
        return Outcome.FAILED
    target = await _target(session, settings, row)
    if isinstance(target, str):
        _end(row, target)
        return Outcome.TARGET_DISABLED
    row.attempts += 1
    row.next_attempt_at = retry_policy.lease_until(now, settings.webhook_timeout)
    message_id = payload_message_id(row.payload)
    request_id = None
    if message_id is not None:
        request_id = await session.scalar(
            select(Message.api_request_id).where(Message.tenant_id == row.tenant_id, Message.id == message_id)
        )
    return Claim(
        delivery_id=row.id,
        tenant_id=row.tenant_id,
        attempt=row.attempts,
        target=DeliveryTarget(row.target),
        endpoint_id=row.endpoint_id,
        payload=row.payload,
        message_id=message_id,
        request_id=request_id,
        **target,
    )


async def record_attempt(session: AsyncSession, claim: Claim, result: AttemptResult, now: datetime) -> Recorded:
    """Store the result of the claimed attempt and update the endpoint's health."""
    row = await repository.lock_delivery(session, claim.delivery_id)
    if row is None or row.status != DeliveryStatus.PENDING or row.attempts != claim.attempt:
        return Recorded(Outcome.SUPERSEDED)
    row.last_status_code = result.status_code
    row.last_error = result.error
    if result.ok:
        row.status = DeliveryStatus.SUCCEEDED.value
        row.delivered_at = now
        row.next_attempt_at = None
        if claim.endpoint_id is not None:
            await repository.count_success(session, claim.tenant_id, claim.endpoint_id, now)
        return Recorded(Outcome.SUCCEEDED)
    if claim.endpoint_id is not None:
        failures = await repository.count_failure(session, claim.tenant_id, claim.endpoint_id, now)
        if retry_policy.should_disable(failures):
            await repository.disable_endpoint(session, claim.tenant_id, claim.endpoint_id, now)
            await repository.fail_pending(session, claim.tenant_id, claim.endpoint_id, ENDPOINT_DISABLED)
            _end(row, f"{result.error}; {ENDPOINT_DISABLED}")
            return Recorded(Outcome.ENDPOINT_DISABLED)
    next_at = retry_policy.next_attempt_at(claim.attempt, now)
    if next_at is None:
        _end(row, result.error or "failed")
        return Recorded(Outcome.FAILED)
    row.next_attempt_at = next_at
    return Recorded(Outcome.RETRY, next_at)
