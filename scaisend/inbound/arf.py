"""RFC 5965 abuse reports (ARF), as sent by mailbox providers' feedback loops: the complaint type, the complaining
recipient (often redacted), the envelope sender the provider received and the original message."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from scaisend.inbound.report_fields import embedded_original, field_blocks, report_parts, strip_type


@dataclass(frozen=True)
class ArfReport:
    feedback_type: str  # abuse | fraud | virus | other | not-spam …
    user_agent: str
    original_rcpt_to: str  # may be redacted or empty
    original: Message | None
    source_ip: str
    original_mail_from: str = ""

    @property
    def return_paths(self) -> list[str]:
        """Addresses that may be our (signed) return path: ``Original-Mail-From``, then the original's
        ``Return-Path`` headers. Which recipient complained is proven by them (D41), never by ``Original-Rcpt-To``
        or the original's ``To``, which anyone can write."""
        found = [self.original_mail_from] if self.original_mail_from else []
        if self.original is not None:
            found += [_angle_address(str(value)) for value in self.original.get_all("Return-Path", [])]
        return [a for a in found if a and "@" in a]


def _angle_address(value: str) -> str:
    """``<a@b>`` (or a bare ``a@b``) → ``a@b``; one pass, no recursion (``email.utils.parseaddr`` recurses on
    nested comments and a crafted header exhausts the stack)."""
    if "<" in value:
        return value.partition("<")[2].partition(">")[0].strip()
    return value.strip()


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
        original_mail_from=strip_type(fields.get("original-mail-from")),
    )
