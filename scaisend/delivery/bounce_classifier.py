"""Reply classification (D11, docs/delivery.md, D10): an SMTP reply → outcome, ``bounce_type`` and SendGrid's
``bounce_classification``.

The reply code decides temporary versus permanent (RFC 5321: a 4xx is never a bounce, a 5xx is never retried), then
the first matching row of a table decides the details. Rows match on the enhanced status code (RFC 3463, exact
``5.2.2`` or class.subject prefix ``5.1.``) and/or a pattern over the reply text, so providers that reuse one code
for different things (Gmail's ``5.7.1`` for both content and reputation, Microsoft's ``5.4.1`` for unknown users)
land in the right class. Defaults when nothing matches: ``5.7.x`` → block / Reputation, any other 5xx → hard /
Unclassified (552 without a status → soft, mailbox full), any 4xx → deferred / Unclassified.

| reply                                   | outcome   | bounce_type | classification                              |
|-----------------------------------------|-----------|-------------|---------------------------------------------|
| 2xx                                     | delivered | –           | –                                           |
| 5.1.x (5.1.10 null MX; 5.1.6 moved)     | bounced   | hard        | Invalid Address (Mailbox Unavailable)       |
| 5.2.2 mailbox full, 5.2.3/5.3.4 too big | bounced   | soft        | Mailbox Unavailable / Technical Failure     |
| 5.2.x other (disabled, inactive)        | bounced   | hard        | Mailbox Unavailable                         |
| 5.7.x                                   | blocked   | block       | Reputation, Content, Frequency or Volume    |
|                                         |           |             | Too High, or Technical Failure (auth/relay) |
| 5.7.x saying the user does not exist    | bounced   | hard        | Invalid Address                             |
| 5.5.x and other 5xx                     | bounced   | hard        | by text, else Unclassified                  |
| 4xx                                     | deferred  | (soft)      | by status and text                          |
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scaisend import linear_re
from scaisend.delivery.result import BounceClassification as C
from scaisend.delivery.result import BounceType as T
from scaisend.delivery.result import DeliveryResult, Outcome
from scaisend.delivery.retry_policy import named_wait

# RE2 for every pattern here: the reply text comes from any MX on the internet (aiosmtplib caps it at 32 KiB), and
# Python's backtracking took seconds on "exceeded " * 1000 with the Frequency row's "exceeded .*(limit|rate)".
_STATUS_RE = linear_re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?:[^0-9]|$)")

_INVALID_USER = (
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist|doesn't exist"
    r"|invalid (recipient|mailbox|address)|recipient (not found|unknown|rejected)|address rejected"
    r"|mailbox (not found|unavailable|does not exist)|not a valid mailbox|no mailbox|undeliverable address"
    r"|account (has been )?(disabled|deactivated|closed)|unrouteable address"
)
_MAILBOX_FULL = r"mailbox (is )?full|over ?quota|quota exceeded|exceeded storage|insufficient (system )?storage"
_TOO_LARGE = r"too (large|big)|size limit|exceeds (the )?(maximum )?(message )?size|message size"
_RATE = (
    r"rate limit|too many (messages|connections|recipients|emails)|throttl|unusual rate|volume"
    r"|sending rate|exceeded .*(limit|rate)|temporarily rate|receiving mail at a rate"
)
_REPUTATION = (
    r"spamhaus|spamcop|barracuda|sorbs|\brbl\b|\bdnsbl\b|block ?list|black ?list|blocked using"
    r"|reputation|banned|\blisted\b|poor ip|client host .* blocked|\[(bl|ts)\d+\]|sender .* blocked"
)
_CONTENT = (
    r"spam|unsolicited|content|virus|malware|phish|security issue|suspicious|attachment|url in"
    r"|message (was )?rejected"
)
_AUTH = r"dmarc|dkim|spf|unauthenticated|authentication|not authenticated|sender policy"


@dataclass(frozen=True)
class Rule:
    """One table row: ``status`` is an exact enhanced code (``5.2.2``) or a prefix ending in a dot (``5.1.``),
    ``None`` for any; ``text`` a case-insensitive pattern over the reply, ``None`` for any."""

    status: str | None
    text: str | None
    bounce_type: T
    classification: C
    _pattern: linear_re.LinearPattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "_pattern", linear_re.compile(self.text, ignorecase=True))

    def matches(self, status: str | None, text: str) -> bool:
        if self.status is not None:
            if status is None:
                return False
            if not (status.startswith(self.status) if self.status.endswith(".") else status == self.status):
                return False
        return self._pattern is None or self._pattern.search(text) is not None


PERMANENT_RULES: tuple[Rule, ...] = (
    # mailbox and address statuses (RFC 3463 X.1.x, X.2.x, X.3.x)
    Rule("5.1.6", None, T.HARD, C.MAILBOX_UNAVAILABLE),
    Rule("5.1.", None, T.HARD, C.INVALID_ADDRESS),
    Rule("5.2.2", None, T.SOFT, C.MAILBOX_UNAVAILABLE),
    Rule("5.2.3", None, T.SOFT, C.TECHNICAL_FAILURE),
    Rule("5.3.4", None, T.SOFT, C.TECHNICAL_FAILURE),
    Rule("5.2.", None, T.HARD, C.MAILBOX_UNAVAILABLE),
    # policy (X.7.x): authentication first (Gmail 5.7.26/5.7.27, Microsoft 5.7.509), then rate, listing, content
    Rule("5.7.", _AUTH, T.BLOCK, C.TECHNICAL_FAILURE),
    Rule("5.7.", r"relay(ing)? (access )?(denied|not permitted)", T.BLOCK, C.TECHNICAL_FAILURE),
    Rule("5.7.", _RATE, T.BLOCK, C.FREQUENCY_OR_VOLUME),
    Rule("5.7.", _REPUTATION, T.BLOCK, C.REPUTATION),
    Rule("5.7.", _CONTENT, T.BLOCK, C.CONTENT),
    Rule("5.7.", _INVALID_USER, T.HARD, C.INVALID_ADDRESS),  # "550 5.7.1 Recipient address rejected" (Postfix)
    Rule("5.7.", None, T.BLOCK, C.REPUTATION),
    # any other status, or none: the text decides (Microsoft "550 5.4.1 Recipient address rejected: Access denied",
    # Outlook "550 5.5.0 Requested action not taken: mailbox unavailable", "554 5.0.0 … blocked using zen.spamhaus")
    Rule(None, _INVALID_USER, T.HARD, C.INVALID_ADDRESS),
    Rule(None, _MAILBOX_FULL, T.SOFT, C.MAILBOX_UNAVAILABLE),
    Rule(None, _TOO_LARGE, T.SOFT, C.TECHNICAL_FAILURE),
    Rule(None, _REPUTATION, T.BLOCK, C.REPUTATION),
    Rule(None, _RATE, T.BLOCK, C.FREQUENCY_OR_VOLUME),
    Rule(None, r"\b(spam|virus|malware|phish)", T.BLOCK, C.CONTENT),
    Rule("5.4.", None, T.HARD, C.TECHNICAL_FAILURE),
    Rule("5.5.", None, T.HARD, C.TECHNICAL_FAILURE),
    Rule("5.6.", None, T.HARD, C.CONTENT),
)

TEMPORARY_RULES: tuple[Rule, ...] = (
    Rule("4.2.2", None, T.SOFT, C.MAILBOX_UNAVAILABLE),
    Rule(None, _MAILBOX_FULL, T.SOFT, C.MAILBOX_UNAVAILABLE),
    Rule(None, _RATE, T.SOFT, C.FREQUENCY_OR_VOLUME),
    Rule(None, _REPUTATION, T.SOFT, C.REPUTATION),
    Rule("4.7.", _CONTENT, T.SOFT, C.CONTENT),
    Rule("4.4.", None, T.SOFT, C.TECHNICAL_FAILURE),
    Rule("4.3.", None, T.SOFT, C.TECHNICAL_FAILURE),
)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    bounce_type: T | None
    classification: C | None
    enhanced_status: str | None


def enhanced_status(text: str) -> str | None:
    """The RFC 3463 code at the start of a reply's text (``"5.1.1 User unknown"`` → ``"5.1.1"``)."""
    match = _STATUS_RE.match(text)
    return ".".join(match.groups()) if match else None


def classify(code: int, text: str) -> Verdict:
    """The verdict for reply ``code`` with ``text`` (the reply without its code; multi-line replies joined)."""
    status = enhanced_status(text)
    if 200 <= code < 300:
        return Verdict(Outcome.DELIVERED, None, None, status)
    if 500 <= code < 600:
        rule = next((r for r in PERMANENT_RULES if r.matches(status, text)), None)
        if rule is not None:
            bounce_type, classification = rule.bounce_type, rule.classification
        elif code == 552:  # RFC 5321 "exceeded storage allocation"
            bounce_type, classification = T.SOFT, C.MAILBOX_UNAVAILABLE
        else:
            bounce_type, classification = T.HARD, C.UNCLASSIFIED
        outcome = Outcome.BLOCKED if bounce_type is T.BLOCK else Outcome.BOUNCED
        return Verdict(outcome, bounce_type, classification, status)
    # 4xx, and anything unexpected (1xx/3xx where a final reply was due), is temporary
    rule = next((r for r in TEMPORARY_RULES if r.matches(status, text)), None)
    return Verdict(Outcome.DEFERRED, T.SOFT, rule.classification if rule else C.UNCLASSIFIED, status)


def reply_result(recipient: str, code: int, text: str, *, mx_host: str | None, tls: bool) -> DeliveryResult:
    """The :class:`DeliveryResult` for an SMTP reply; ``response`` is ``"<code> <text>"`` on one line."""
    flat = " ".join(line.strip() for line in text.splitlines() if line.strip())
    verdict = classify(code, flat)
    return DeliveryResult(
        recipient=recipient,
        outcome=verdict.outcome,
        code=code,
        enhanced_status=verdict.enhanced_status,
        response=f"{code} {flat}".strip(),
        mx_host=mx_host,
        tls=tls,
        retry_after=named_wait(flat) if verdict.outcome is Outcome.DEFERRED else None,
        bounce_type=verdict.bounce_type,
        classification=verdict.classification,
    )


def local_result(
    recipient: str,
    *,
    permanent: bool,
    status: str,
    text: str,
    mx_host: str | None = None,
    tls: bool = False,
    classification: C = C.TECHNICAL_FAILURE,
) -> DeliveryResult:
    """A result with no SMTP reply behind it (DNS, connection, TLS trouble): reply-shaped, as Postfix reports them,
    e.g. ``"451 4.4.1 Connection timed out: mx1.example.com"`` or ``"550 5.1.10 Null MX: example.com accepts no
    mail"``."""
    code = 550 if permanent else 451
    return DeliveryResult(
        recipient=recipient,
        outcome=Outcome.BOUNCED if permanent else Outcome.DEFERRED,
        code=code,
        enhanced_status=status,
        response=f"{code} {status} {text}",
        mx_host=mx_host,
        tls=tls,
        bounce_type=T.HARD if permanent else T.SOFT,
        classification=classification,
    )
