"""The MIME builder, checked by parsing its bytes back with the stdlib parser."""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from scaisend.compose.mime import (
    Attachment,
    Draft,
    Mailbox,
    MimeBuildError,
    build_mime,
    decode_attachments,
    merge_headers,
)
from scaisend.compose.recipients import Recipient

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
PDF = b"%PDF-1.4\n" + bytes(range(255, -1, -1))
WHEN = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)


def draft(**overrides: Any) -> Draft:
    values: dict[str, Any] = {
        "message_id": "msg_01test",
        "hostname": "mta.scaisend.test",
        "date": WHEN,
        "sender": Mailbox("sender@example.test", "Sender"),
        "to": [Recipient("ada@example.test", "Ada", "to")],
        "cc": [],
        "subject": "Hello",
        "html": "<html><body><p>Hi</p></body></html>",
        "text": "Hi",
    }
    values.update(overrides)
    return Draft(**values)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


class TestBuildMime:
    def test_headers(self) -> None:
        msg = parse(
            build_mime(
                draft(cc=[Recipient("cc@example.test", None, "cc")], reply_to=[Mailbox("help@example.test", "Help")])
            )
        )

        assert msg["From"] == "Sender <sender@example.test>"
        assert msg["To"] == "Ada <ada@example.test>"
        assert msg["Cc"] == "cc@example.test"
        assert msg["Reply-To"] == "Help <help@example.test>"
        assert msg["Date"] == "Fri, 27 Nov 2026 12:30:00 +0000"
        assert msg["Message-ID"] == "<msg_01test@mta.scaisend.test>"
        assert msg["X-ScaiSend-Message-Id"] == "msg_01test"
        assert msg["MIME-Version"] == "1.0"
        assert msg["Bcc"] is None

    def test_crlf_line_ends_and_ascii_only(self) -> None:
        raw = build_mime(draft(subject="Grüße ✓", text="Grüße", html="<p>Grüße</p>"))
        raw.decode("ascii")
        assert b"\r\n" in raw
        assert b"\n" not in raw.replace(b"\r\n", b"")

    def test_non_ascii_subject_and_names_round_trip_as_encoded_words(self) -> None:
        raw = build_mime(
            draft(
                subject="Grüße aus Köln ✓",
                sender=Mailbox("s@example.test", "Zoë Ünal"),
                to=[Recipient("a@example.test", "Ærøskøbing", "to")],
            )
        )

        assert b"=?utf-8?" in raw
        msg = parse(raw)
        assert msg["Subject"] == "Grüße aus Köln ✓"
        assert msg["From"].addresses[0].display_name == "Zoë Ünal"
        assert msg["To"].addresses[0].display_name == "Ærøskøbing"

    def test_text_and_html_make_multipart_alternative(self) -> None:
        msg = parse(build_mime(draft(text="Grüße", html="<p>Grüße</p>")))

        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg.get_body(("plain",)).get_content().strip() == "Grüße"  # type: ignore[union-attr]
        assert msg.get_body(("html",)).get_content().strip() == "<p>Grüße</p>"  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("html", "text", "content_type"),
        [
            ("<p>only html</p>", None, "text/html"),
            (None, "only text", "text/plain"),
        ],
    )
    def test_single_part(self, html: str | None, text: str | None, content_type: str) -> None:
        msg = parse(build_mime(draft(html=html, text=text)))
        assert msg.get_content_type() == content_type

    def test_inline_image_is_related_to_the_html_and_attachments_are_mixed(self) -> None:
        msg = parse(
            build_mime(
                draft(
                    html='<html><body><img src="cid:logo"></body></html>',
                    attachments=[
                        Attachment(PNG, "logo.png", "image/png", "inline", "logo"),
                        Attachment(PDF, "Bericht über 2026.pdf", "application/pdf"),
                    ],
                )
            )
        )

        assert msg.get_content_type() == "multipart/mixed"
        body, attachment = list(msg.iter_parts())
        assert body.get_content_type() == "multipart/alternative"
        _text, related = list(body.iter_parts())
        assert related.get_content_type() == "multipart/related"
        html, image = list(related.iter_parts())
        assert 'src="cid:logo"' in html.get_content()
        assert image["Content-ID"] == "<logo>"
        assert image.get_content_disposition() == "inline"
        assert image.get_content() == PNG
        assert attachment.get_filename() == "Bericht über 2026.pdf"
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_content() == PDF
        assert [part["MIME-Version"] for part in msg.walk()][1:] == [None] * 6

    def test_inline_attachment_without_html_is_attached(self) -> None:
        msg = parse(
            build_mime(draft(html=None, attachments=[Attachment(PNG, "logo.png", "image/png", "inline", "logo")]))
        )
        assert msg.get_content_type() == "multipart/mixed"
        image = next(iter(msg.iter_attachments()))
        assert image["Content-ID"] == "<logo>"
        assert image.get_content() == PNG

    def test_unusable_type_falls_back_to_octet_stream(self) -> None:
        msg = parse(build_mime(draft(attachments=[Attachment(b"x", "x.bin", "not a type")])))
        assert next(iter(msg.iter_attachments())).get_content_type() == "application/octet-stream"

    def test_custom_headers_and_no_recipients_in_to(self) -> None:
        msg = parse(
            build_mime(
                draft(
                    to=[],
                    cc=[Recipient("cc@example.test", None, "cc")],
                    headers={"X-Campaign": "spring", "X-Note": "Grüße"},
                )
            )
        )
        assert msg["X-Campaign"] == "spring"
        assert msg["X-Note"] == "Grüße"
        assert msg["To"] == "undisclosed-recipients:;"

    def test_invalid_address_is_a_build_error(self) -> None:
        with pytest.raises(MimeBuildError, match="invalid email address"):
            build_mime(draft(sender=Mailbox("not an address <<", None)))


class TestMergeHeaders:
    def test_personalization_wins_case_insensitively(self) -> None:
        merged = merge_headers({"X-Tag": "request", "X-Only-Request": "1"}, {"x-tag": "personalization"})
        assert merged == {"x-tag": "personalization", "X-Only-Request": "1"}

    def test_reserved_and_malformed_names_are_left_out(self) -> None:
        merged = merge_headers(
            {
                "To": "x@example.test",
                "Subject": "s",
                "X-ScaiSend-Message-Id": "forged",
                "DKIM-Signature": "x",
                "Bad Name": "1",
                "Bad:Name": "1",
                "X-Ok": "1",
            }
        )
        assert merged == {"X-Ok": "1"}

    def test_line_breaks_cannot_start_a_header(self) -> None:
        merged = merge_headers({"X-Evil": "a\r\nBcc: victim@example.test"})
        assert merged == {"X-Evil": "a Bcc: victim@example.test"}
        msg = parse(build_mime(draft(headers=merged)))
        assert msg["Bcc"] is None


class TestDecodeAttachments:
    def test_decodes_with_defaults(self) -> None:
        [attachment] = decode_attachments([{"content": base64.b64encode(PDF).decode(), "filename": "r.pdf"}])
        assert attachment == Attachment(PDF, "r.pdf", "application/octet-stream", "attachment", None, request_index=0)

    def test_line_breaks_in_content_are_ignored_as_the_accept_stage_ignores_them(self) -> None:
        [attachment] = decode_attachments([{"content": base64.encodebytes(PDF).decode(), "filename": "r.pdf"}])
        assert attachment.content == PDF

    def test_bad_base64_names_the_attachment(self) -> None:
        with pytest.raises(MimeBuildError, match=r"attachments\[1\]\.content"):
            decode_attachments([{"content": "aGk=", "filename": "a"}, {"content": "%%%", "filename": "b"}])
