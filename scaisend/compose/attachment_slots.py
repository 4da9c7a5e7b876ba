"""A request's attachments are stored once (issue 9 finding 8, D70): in ``send_requests``, never in the rendered
message of each personalization.

Compose builds each message with a random placeholder in every request attachment's part, then cuts the placeholder
out (:func:`hollow`): ``message_contents.mime`` keeps the headers, boundaries and every other part, and
``message_contents.attachment_slots`` says where each attachment's base64 lines go (byte offset, index in the
request's ``attachments``, SHA-256 of the decoded bytes). The SMTP service puts them back (:func:`fill`) before it
DKIM-signs: the bytes are exactly those the MIME builder would have produced with the content in place (the same
76-character base64 lines, CRLF), and a retry days later sends the same bytes because the skeleton (with its MIME
boundaries) is stored and the attachment is the immutable copy in ``send_requests``, checked against its digest.

A boundary can never occur inside the filled-in lines: they hold base64 characters only, and a boundary line starts
with ``--``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scaisend.compose.mime import Attachment, Draft, MimeBuildError, build_mime, decode_content

_CRLF = b"\r\n"
_PLACEHOLDER_BYTES = 24  # encodes to one 32-character base64 line


class AttachmentUnavailable(ValueError):
    """The stored request no longer holds the attachment a message was rendered with (gone or changed)."""


@dataclass(frozen=True)
class AttachmentSlot:
    """Where the base64 lines of ``attachments[index]`` of the send request go in the stored skeleton."""

    offset: int
    index: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"offset": self.offset, "index": self.index, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttachmentSlot:
        return cls(int(data["offset"]), int(data["index"]), str(data["sha256"]))


@dataclass(frozen=True)
class Hollow:
    """A rendered message without the request's attachment bytes, and where they go."""

    mime: bytes
    slots: tuple[AttachmentSlot, ...] = ()

    @property
    def slots_json(self) -> list[dict[str, Any]] | None:
        return [slot.as_json() for slot in self.slots] or None


def encode_lines(data: bytes) -> bytes:
    """``data`` as the MIME builder writes a base64 body: 76-character lines (57 bytes each), each ending CRLF."""
    return base64.encodebytes(data).replace(b"\n", _CRLF)


def hollow(draft: Draft) -> Hollow:
    """The MIME of ``draft`` with each request attachment's (``request_index`` set) base64 body cut out."""
    placeholders: dict[bytes, tuple[int, str]] = {}
    attachments: list[Attachment] = []
    for attachment in draft.attachments:
        if attachment.request_index is None:
            attachments.append(attachment)
            continue
        token = secrets.token_bytes(_PLACEHOLDER_BYTES)
        placeholders[encode_lines(token)] = (attachment.request_index, hashlib.sha256(attachment.content).hexdigest())
        attachments.append(replace(attachment, content=token))
    mime = build_mime(replace(draft, attachments=attachments))
    found: list[tuple[int, bytes, int, str]] = []
    for line, (index, digest) in placeholders.items():
        at = mime.find(line)
        if at < 0 or mime.find(line, at + 1) >= 0:
            raise MimeBuildError(f"cannot place attachments[{index}] in the message")
        found.append((at, line, index, digest))
    found.sort()
    pieces: list[bytes] = []
    slots: list[AttachmentSlot] = []
    start = removed = 0
    for at, line, index, digest in found:
        pieces.append(mime[start:at])
        slots.append(AttachmentSlot(at - removed, index, digest))
        start = at + len(line)
        removed += len(line)
    pieces.append(mime[start:])
    return Hollow(b"".join(pieces), tuple(slots))


def fill(mime: bytes, slots: Sequence[Mapping[str, Any]] | None, attachments: Sequence[Any] | None) -> bytes:
    """The stored skeleton with the request's attachments put back: the bytes to sign and send. Raises
    :class:`AttachmentUnavailable` when an attachment is missing or differs from the one the message was built with."""
    if not slots:
        return mime
    stored = list(attachments or [])
    pieces: list[bytes] = []
    start = 0
    for slot in sorted((AttachmentSlot.from_json(s) for s in slots), key=lambda s: s.offset):
        item = stored[slot.index] if 0 <= slot.index < len(stored) else None
        try:
            content = decode_content(item.get("content")) if isinstance(item, Mapping) else None
        except (binascii.Error, ValueError):
            content = None
        if content is None or hashlib.sha256(content).hexdigest() != slot.sha256:
            raise AttachmentUnavailable(f"attachments[{slot.index}] of the send request is missing or changed")
        pieces += [mime[start : slot.offset], encode_lines(content)]
        start = slot.offset
    pieces.append(mime[start:])
    return b"".join(pieces)
