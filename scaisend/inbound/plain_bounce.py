"""Bounces that are not RFC 3464 (issue 12, part 2; D44): plain-text notices from older Exim, qmail, Exchange and
hosted gateways, with no ``message/delivery-status`` part.

``flufl.bounce`` (GNU Mailman's detectors, Apache-2.0) finds the failed recipients and says which failures are
permanent; it runs only after :func:`scaisend.inbound.dsn.parse_dsn` found no delivery-status part. One format it
misses is added here: Exchange 2000/2003's "The following recipient(s) could not be reached:" notice
(:func:`_exchange_2003`). The SMTP reply is
not part of its answer, so :func:`parse_plain_bounce` reads it from the text after the recipient's first mention: the
first reply line (``550 5.1.1 …``, ``550-5.1.1 …``, ``#5.1.1``) within :data:`REPLY_WINDOW` characters. What comes out
is a :class:`~scaisend.inbound.dsn.DsnReport`, so matching (signed return path, D41) and classification (D11) are the
DSN's. A permanent failure with no reply in the text is ``550 5.0.0`` plus the line that named the recipient.
"""

from __future__ import annotations

import logging
import re
from email.message import Message

from flufl.bounce import all_failures

from scaisend.inbound.dsn import DsnRecipient, DsnReport
from scaisend.inbound.report_fields import embedded_original

logger = logging.getLogger(__name__)
# flufl.bounce logs every detector it runs at INFO and a detector's exception (on crafted input) with a traceback
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

REPLY_WINDOW = 600  # characters after the recipient's first mention searched for its reply
MAX_TEXT = 64 * 1024  # characters of body text read
MAX_RECIPIENTS = 100
# anchored at a word start, bounded repetition, searched in a window of REPLY_WINDOW characters: linear
_REPLY_RE = re.compile(r"(?<![\w.])([245]\d\d)[ -](?:#?([245]\.\d{1,3}\.\d{1,3})\b)?")
_STATUS_RE = re.compile(r"(?<![\w.])#?([245]\.\d{1,3}\.\d{1,3})\b")
_EXCHANGE_START = "following recipient(s) could not be reached:"
_EXCHANGE_ADDRESS = re.compile(r"\s+<?([^\s<>@]{1,64}@[^\s<>@]{1,255})>? on ")  # anchored by match(): linear


def _exchange_2003(text: str) -> frozenset[bytes]:
    """Recipients of an Exchange 2000/2003 non-delivery notice (all permanent)."""
    at = text.lower().find(_EXCHANGE_START)
    if at < 0:
        return frozenset()
    found = set()
    for line in text[at + len(_EXCHANGE_START) :].splitlines()[:200]:
        if line.startswith("--"):
            break
        match = _EXCHANGE_ADDRESS.match(line)
        if match:
            found.add(match.group(1).encode("ascii", errors="replace"))
    return frozenset(found)


def _text(message: Message) -> str:
    """The notice's human-readable text: its ``text/plain`` parts (not those of an attached original), decoded."""
    chunks: list[str] = []
    size = 0
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "message/global", "text/rfc822-headers"):
            break  # the returned original follows; its text is not the notice
        if part.get_content_type() != "text/plain" or part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = payload.decode(charset, errors="replace")
        except LookupError:
            text = payload.decode("utf-8", errors="replace")
        chunks.append(text[: MAX_TEXT - size])
        size += len(chunks[-1])
        if size >= MAX_TEXT:
            break
    return "\n".join(chunks)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _paragraph(text: str) -> list[str]:
    """The lines of ``text`` up to a blank line or a separator line (``---- copy of the message ----``)."""
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("--"):
            break
        lines.append(line)
    return lines


def _reply_for(text: str, lowered: str, address: str, permanent: bool) -> tuple[str, str]:
    """(enhanced status, diagnostic led by its reply code) for ``address`` as the notice states it."""
    at = lowered.find(address)
    window = text[at : at + REPLY_WINDOW] if at >= 0 else ""
    default_code = "550" if permanent else "450"
    match = _REPLY_RE.search(window)
    if match is not None:
        code, status = match.group(1), match.group(2)
        diagnostic = _one_line(" ".join(_paragraph(window[match.start() :])))[:500]
        if status is None:
            found = _STATUS_RE.search(diagnostic)
            status = found.group(1) if found else f"{code[0]}.0.0"
        return status, diagnostic
    found = _STATUS_RE.search(window)
    status = found.group(1) if found else f"{default_code[0]}.0.0"
    return status, _one_line(" ".join([default_code, status, *_paragraph(window)]))[:500]


def parse_plain_bounce(message: Message) -> DsnReport | None:
    """The failed (and delayed) recipients of a non-RFC-3464 bounce, or ``None`` when the detectors find none."""
    text = _text(message)
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a third-party heuristic on internet input: a failure means "not recognised"
        logger.info("bounce detectors failed on an inbound message", extra={"error": repr(exc)})
        temporary, permanent = frozenset(), frozenset()
    if not temporary and not permanent:
        permanent = _exchange_2003(text)
    if not temporary and not permanent:
        return None
    lowered = text.lower()
    recipients: list[DsnRecipient] = []
    found = [(a, True) for a in sorted(permanent)] + [(a, False) for a in sorted(temporary - permanent)]
    for raw_address, is_permanent in found[:MAX_RECIPIENTS]:
        address = raw_address.decode("ascii", errors="replace").strip().strip("<>").lower()
        if "@" not in address:
            continue
        status, diagnostic = _reply_for(text, lowered, address, is_permanent)
        recipients.append(
            DsnRecipient(
                recipient=address,
                action="failed" if is_permanent else "delayed",
                status=status,
                diagnostic=diagnostic,
                remote_mta="",
            )
        )
    if not recipients:
        return None
    return DsnReport(recipients=recipients, original=embedded_original(message), reporting_mta="", source="plain")
