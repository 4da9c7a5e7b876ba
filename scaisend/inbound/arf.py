"""RFC 5965 abuse reports (ARF), as sent by mailbox providers' feedback loops: the complaint type, the complaining
recipient (often redacted) and the original message."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from scaisend.inbound.report_fields import embedded_original, field_blocks, report_parts, strip_type


@dataclass(frozen=True)
class ArfReport:
    feedback_type: str  # abuse | fraud | virus | other | not-spam …
    user_agent: str
    original_rcpt_to: str  # may be redacted or empty
    original: Message | None
    source_ip: str

    @property
    def recipient_candidates(self) -> list[str]:
        """Addresses that may name the complainer: Original-Rcpt-To, then the original's To."""
        found = [self.original_rcpt_to] if self.original_rcpt_to else []
        if self.original is not None:
            found += [addr for _, addr in getaddresses(self.original.get_all("To", []))]
        return [a.lower() for a in found if a and "@" in a]


def parse_arf(message: Message) -> ArfReport | None:
    parts = report_parts(message, ("feedback-report",))
    if not parts:
        return None
    fields: dict[str, str] = {}
    for block in field_blocks(parts[0]):
        fields.update(block)
    return ArfReport(
        feedback_type=fields.get("feedback-type", "").lower(),
        user_agent=fields.get("user-agent", ""),
        original_rcpt_to=strip_type(fields.get("original-rcpt-to")).lower(),
        original=embedded_original(message),
        source_ip=fields.get("source-ip", ""),
    )
