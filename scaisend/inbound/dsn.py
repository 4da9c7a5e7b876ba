"""RFC 3464 delivery status notifications (and RFC 6533 ``message/global-delivery-status``): which recipients
failed, with which status and diagnostic, and which original message they refer to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from scaisend.inbound.report_fields import embedded_original, field_blocks, report_parts, strip_type

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class DsnRecipient:
    recipient: str
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # enhanced status code, e.g. 5.1.1
    diagnostic: str  # e.g. "550 5.1.1 <user@example.com>: Recipient address rejected: User unknown"
    remote_mta: str
    original_recipient: str = ""  # Original-Recipient, when the report gives one

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    def names(self, address: str) -> bool:
        """Whether this entry is about ``address`` (its final or original recipient, case-insensitively)."""
        return address.strip().lower() in (self.recipient, self.original_recipient)

    @property
    def reply_code(self) -> int:
        match = re.match(r"\s*([245]\d\d)\b", self.diagnostic)
        if match:
            return int(match.group(1))
        return 550 if self.status.startswith("5") else 450


@dataclass(frozen=True)
class DsnReport:
    recipients: list[DsnRecipient]
    original: Message | None
    reporting_mta: str
    source: str = "dsn"  # dsn (RFC 3464) | plain (a plain-text bounce, D44)


def parse_dsn(message: Message) -> DsnReport | None:
    """The report, or ``None`` when ``message`` carries no delivery-status part."""
    parts = report_parts(message, ("delivery-status", "global-delivery-status"))
    if not parts:
        return None
    blocks = [block for part in parts for block in field_blocks(part)]
    per_message = blocks[0] if blocks and "reporting-mta" in blocks[0] else {}
    recipients = []
    for block in blocks:
        if "final-recipient" not in block and "original-recipient" not in block:
            continue
        recipient = strip_type(block.get("final-recipient") or block.get("original-recipient")).lower()
        status_match = _STATUS_RE.search(block.get("status", ""))
        recipients.append(
            DsnRecipient(
                recipient=recipient,
                action=block.get("action", "").strip().lower(),
                status=".".join(status_match.groups()) if status_match else "",
                diagnostic=strip_type(block.get("diagnostic-code")),
                remote_mta=strip_type(block.get("remote-mta")),
                original_recipient=strip_type(block.get("original-recipient")).lower(),
            )
        )
    return DsnReport(
        recipients=recipients,
        original=embedded_original(message),
        reporting_mta=strip_type(per_message.get("reporting-mta")),
    )
