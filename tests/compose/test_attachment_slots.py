"""D70: compose stores a message without the request's attachment bytes, delivery puts them back. Filled in, the
bytes are exactly what the MIME builder makes with the content in place (same boundaries, same base64 lines)."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from collections.abc import Callable
from typing import Any

import pytest

from scaisend.compose.attachment_slots import AttachmentUnavailable, fill, hollow
from scaisend.compose.mime import Attachment, Draft, build_mime, decode_attachments
from tests.compose.test_mime import draft

PDF = b"%PDF-1.4\n" + os.urandom(10_000)


def same_boundaries(build: Callable[[], Any]) -> Any:
    """``build()`` with the stdlib's boundary generator (module ``random``) seeded, so two builds can be compared."""
    state = random.getstate()
    random.seed(70)
    try:
        return build()
    finally:
        random.setstate(state)


def request(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return list(items)


def item(content: bytes, filename: str, **extra: Any) -> dict[str, Any]:
    return {"content": base64.b64encode(content).decode(), "filename": filename, **extra}


@pytest.mark.parametrize("size", [1, 56, 57, 58, 114, 1000, 100_000])
def test_filled_message_equals_the_message_built_with_the_content(size: int) -> None:
    stored = request(
        item(os.urandom(size), "data.bin"),
        item(PDF, "doc.pdf", type="application/pdf"),
        item(b"\x89PNG" + os.urandom(300), "logo.png", type="image/png", disposition="inline", content_id="logo"),
    )
    whole = draft(attachments=decode_attachments(stored))
    expected = same_boundaries(lambda: build_mime(whole))
    hollowed = same_boundaries(lambda: hollow(whole))
    assert [slot.index for slot in hollowed.slots] == [2, 0, 1]  # the inline image sits in multipart/related first
    assert len(hollowed.mime) < 4_000  # no attachment bytes stored
    assert fill(hollowed.mime, hollowed.slots_json, stored) == expected


def test_attachments_compose_adds_stay_in_the_stored_message() -> None:
    embedded = Attachment(b"GIF89a" + bytes(200), "pixel.gif", "image/gif", "inline", "img1")
    whole = Draft(**{**draft().__dict__, "attachments": [embedded]})
    hollowed = hollow(whole)
    assert hollowed.slots == ()
    assert hollowed.slots_json is None
    assert base64.b64encode(embedded.content)[:40] in hollowed.mime
    assert fill(hollowed.mime, hollowed.slots_json, None) == hollowed.mime


def test_a_placeholder_cannot_be_spoofed_by_the_body() -> None:
    """The tenant controls the text; the placeholder is random per build, so the text never matches it."""
    stored = request(item(PDF, "doc.pdf"))
    whole = draft(text="QUFB" * 500, attachments=decode_attachments(stored))
    hollowed = hollow(whole)
    filled = fill(hollowed.mime, hollowed.slots_json, stored)
    assert filled.count(base64.b64encode(PDF[:57])) == 1
    assert filled.count(b"QUFB" * 10) >= 1


class TestMissingOrChangedAttachment:
    def slots(self) -> tuple[bytes, list[dict[str, Any]] | None]:
        hollowed = hollow(draft(attachments=decode_attachments(request(item(PDF, "doc.pdf")))))
        return hollowed.mime, hollowed.slots_json

    @pytest.mark.parametrize(
        "stored",
        [
            [],
            None,
            request(item(PDF + b"x", "doc.pdf")),
            request({"content": "not base64!!", "filename": "doc.pdf"}),
            ["not an object"],
        ],
    )
    def test_refused(self, stored: list[Any] | None) -> None:
        mime, slots = self.slots()
        with pytest.raises(AttachmentUnavailable, match=r"attachments\[0\]"):
            fill(mime, slots, stored)

    def test_line_broken_base64_is_the_same_attachment(self) -> None:
        mime, slots = self.slots()
        wrapped = base64.encodebytes(PDF).decode()  # the accept stage allows line breaks in content
        assert slots is not None
        assert slots[0]["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert fill(mime, slots, request({"content": wrapped, "filename": "doc.pdf"})) == fill(
            mime, slots, request(item(PDF, "doc.pdf"))
        )
