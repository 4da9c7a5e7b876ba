"""Reading the machine-readable part of a ``multipart/report``: blocks of ``Name: value`` fields separated by blank
lines (RFC 3464 ``message/delivery-status``, RFC 6533 ``message/global-delivery-status``, RFC 5965
``message/feedback-report``). The stdlib parses some of these subtypes into sub-messages and leaves others as text;
both come out here as a list of field blocks."""

from __future__ import annotations

import email
from email.message import Message

Fields = dict[str, str]
# Field blocks read from one report part; the rest is ignored. A report names one message's recipients (at most 1000
# per personalization), and each block costs a call of the stdlib's header parser, so a crafted multi-MiB report
# of tiny blocks would otherwise keep the inbound listener busy for seconds.
MAX_FIELD_BLOCKS = 1000


def _from_text(text: str, limit: int = MAX_FIELD_BLOCKS) -> list[Fields]:
    blocks: list[Fields] = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        if len(blocks) >= limit:
            break
        if not chunk.strip():
            continue
        parsed = email.message_from_string(chunk.strip() + "\n")
        fields = {k.lower(): " ".join(str(v).split()) for k, v in parsed.items()}
        if fields:
            blocks.append(fields)
    return blocks


def field_blocks(part: Message) -> list[Fields]:
    """The field blocks of a report part (the first :data:`MAX_FIELD_BLOCKS`), lowercase names, folded values
    unfolded."""
    payload = part.get_payload()
    if isinstance(payload, list):
        # delivery-status comes parsed into one sub-message per block; other message/* subtypes into a single
        # sub-message whose headers are the first block and whose body holds the rest
        blocks = []
        for sub in payload[:MAX_FIELD_BLOCKS]:
            if not isinstance(sub, Message):
                continue
            fields = {k.lower(): " ".join(str(v).split()) for k, v in sub.items()}
            if fields:
                blocks.append(fields)
            body = sub.get_payload()
            if isinstance(body, str) and body.strip():
                blocks.extend(_from_text(body, MAX_FIELD_BLOCKS - len(blocks)))
            if len(blocks) >= MAX_FIELD_BLOCKS:
                break
        return blocks[:MAX_FIELD_BLOCKS]
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes):
        return _from_text(raw.decode("utf-8", errors="replace"))
    return _from_text(str(payload))


def report_parts(message: Message, subtypes: tuple[str, ...]) -> list[Message]:
    """Every part of ``message`` whose content type is one of ``message/<subtype>``."""
    wanted = {f"message/{s}" for s in subtypes}
    return [part for part in message.walk() if part.get_content_type() in wanted]


def embedded_original(message: Message) -> Message | None:
    """The returned original: a ``message/rfc822`` (or ``message/global``) part, or ``text/rfc822-headers``."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return email.message_from_bytes(raw)
        if kind in ("text/rfc822-headers", "message/global-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(part.get_payload())
            return email.message_from_string(text)
    return None


def strip_type(value: str | None) -> str:
    """``rfc822; user@example.com`` → ``user@example.com``; ``smtp; 550 …`` → ``550 …``."""
    if not value:
        return ""
    _, sep, rest = value.partition(";")
    return (rest if sep else value).strip().strip("<>").strip()


def header_text(value: object) -> str:
    """A header value as text; ``""`` for one the stdlib cannot render (a ``Header`` holding lone surrogates)."""
    try:
        return str(value)
    except UnicodeError:
        return ""
