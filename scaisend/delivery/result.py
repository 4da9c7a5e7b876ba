"""The one result type between transport and bookkeeping (docs/architecture.md, Postal's ``SendResult``; docs/delivery.md, D10, D11).

The SMTP session, the MX lookup and the TLS policy all end in a :class:`DeliveryResult` per recipient; the job turns
those into events, suppressions, the message status and the next retry. Nothing else crosses that boundary.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, replace
from typing import Any


class Outcome(enum.StrEnum):
    """What happened to one recipient in one attempt (also the ``result`` label of ``smtp_deliveries_total``)."""

    DELIVERED = "delivered"  # the MX answered 2xx at the end of DATA
    DEFERRED = "deferred"  # a temporary failure (4xx, timeout, connection or DNS trouble): retry later
    BOUNCED = "bounced"  # a permanent failure (5xx hard or soft, null MX, expiry after SMTP_MAX_AGE)
    BLOCKED = "blocked"  # a permanent policy / reputation rejection (5.7.x): the ``blocked`` event
    FAILED = "failed"  # we could not try at all (no content, sender domain not verified)

    @property
    def is_final(self) -> bool:
        return self is not Outcome.DEFERRED


class BounceType(enum.StrEnum):
    """``bounce_type`` of ``bounce``/``blocked`` events and bounce suppressions (docs/delivery.md, D10, D11)."""

    HARD = "hard"
    SOFT = "soft"
    BLOCK = "block"


class BounceClassification(enum.StrEnum):
    """SendGrid's ``bounce_classification`` strings (D11; ``tsg_suppressions_v3.json`` ``Classification``)."""

    INVALID_ADDRESS = "Invalid Address"
    TECHNICAL_FAILURE = "Technical Failure"
    CONTENT = "Content"
    REPUTATION = "Reputation"
    FREQUENCY_OR_VOLUME = "Frequency or Volume Too High"
    MAILBOX_UNAVAILABLE = "Mailbox Unavailable"
    UNCLASSIFIED = "Unclassified"


@dataclass(frozen=True)
class DeliveryResult:
    """One recipient's result of one attempt.

    ``response`` is the full reply as the MX sent it (``"550 5.1.1 User unknown"``), or, when no reply was had, a
    reply-shaped local description (``"451 4.4.1 Connection timed out: mx1.example.com"``) with ``code`` still the
    class we assign. ``bounce_type`` and ``classification`` are set for bounced and blocked results and, for
    deferred ones, say what the recipient would bounce as if the message expired now.
    """

    recipient: str
    outcome: Outcome
    code: int | None
    enhanced_status: str | None
    response: str
    mx_host: str | None = None
    tls: bool = False
    retry_after: float | None = None
    bounce_type: BounceType | None = None
    classification: BounceClassification | None = None
    expired: bool = False

    def expire(self) -> DeliveryResult:
        """This deferral turned into the soft bounce of a message older than ``SMTP_MAX_AGE`` (D10)."""
        return replace(
            self,
            outcome=Outcome.BOUNCED,
            bounce_type=BounceType.SOFT,
            retry_after=None,
            expired=True,
            classification=self.classification or BounceClassification.UNCLASSIFIED,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryResult:
        values = dict(data)
        values["outcome"] = Outcome(values["outcome"])
        if values.get("bounce_type") is not None:
            values["bounce_type"] = BounceType(values["bounce_type"])
        if values.get("classification") is not None:
            values["classification"] = BounceClassification(values["classification"])
        return cls(**values)
