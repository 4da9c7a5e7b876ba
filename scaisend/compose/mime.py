"""The RFC 5322 message (docs/sending.md, docs/architecture.md, docs/compose.md, docs/delivery.md, D21, D12) built with the stdlib ``email`` package, policy SMTP (CRLF, 7-bit
transfer encodings so the bytes survive any relay and DKIM signs them as they are).

Headers: ``From``, ``To``, ``Cc``, ``Reply-To`` (non-ASCII names and subjects as encoded-words), ``Subject``,
``Date``, ``Message-ID: <message_id@SMTP_HOSTNAME>``, ``MIME-Version``, the request's and then the
personalization's custom ``headers`` (the personalization wins; headers ScaiSend owns are refused), the tracking
headers, and ``X-ScaiSend-Message-Id``.

Structure, outermost first (each level only when needed)::

    multipart/mixed            body + attachments
      multipart/alternative    text/plain + html
        multipart/related      text/html + inline (cid:) attachments
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from scaisend.compose.recipients import Recipient
from scaisend.mail.validation import RESERVED_HEADERS  # the accept stage refuses them; compose never copies them

POLICY = policy.SMTP.clone(cte_type="7bit")
MESSAGE_ID_HEADER = "X-ScaiSend-Message-Id"
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_DEFAULT_TYPE = "application/octet-stream"


class MimeBuildError(ValueError):
    """The message cannot be built from what the request holds (bad address, attachment or header)."""


@dataclass(frozen=True)
class Attachment:
    content: bytes
    filename: str
    content_type: str = _DEFAULT_TYPE
    disposition: str = "attachment"
    content_id: str | None = None
    request_index: int | None = None  # its place in the send request's ``attachments`` (None: added by compose)

    @property
    def inline(self) -> bool:
        return self.disposition == "inline" and bool(self.content_id)


@dataclass(frozen=True)
class Mailbox:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class Draft:
    """Everything the MIME builder needs, already rendered and instrumented."""

    message_id: str
    hostname: str
    date: datetime
    sender: Mailbox
    to: list[Recipient]
    cc: list[Recipient]
    subject: str
    html: str | None
    text: str | None
    reply_to: list[Mailbox] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)


def decode_content(content: object) -> bytes:
    """An attachment's base64 ``content`` as the accept stage allows it (line breaks ignored), decoded."""
    return base64.b64decode(str(content or "").replace("\r", "").replace("\n", ""), validate=True)


def decode_attachments(raw: list[Mapping[str, Any]] | None) -> list[Attachment]:
    """The request's ``attachments`` with their base64 ``content`` decoded."""
    attachments: list[Attachment] = []
    for index, item in enumerate(raw or []):
        try:
            content = decode_content(item.get("content"))
        except (binascii.Error, ValueError) as exc:
            raise MimeBuildError(f"attachments[{index}].content is not valid base64") from exc
        attachments.append(
            Attachment(
                content=content,
                filename=str(item.get("filename") or f"attachment-{index + 1}"),
                content_type=str(item.get("type") or _DEFAULT_TYPE),
                disposition=str(item.get("disposition") or "attachment"),
                content_id=str(item["content_id"]) if item.get("content_id") else None,
                request_index=index,
            )
        )
    return attachments


def merge_headers(*layers: Mapping[str, Any] | None) -> dict[str, str]:
    """Custom headers, later layers winning (names compare case-insensitively). Reserved or malformed names are
    left out; line breaks in values become spaces so a value can never start a new header."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in (layer or {}).items():
            key = str(name).strip()
            if not _HEADER_NAME.match(key) or key.lower() in RESERVED_HEADERS or value is None:
                continue
            merged[key.lower()] = (key, " ".join(str(value).splitlines()).strip())
    return dict(merged.values())


def _address(email: str, name: str | None) -> Address:
    try:
        return Address(display_name=name or "", addr_spec=email)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise MimeBuildError(f"invalid email address {email!r}") from exc


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.strip().lower().partition("/")
    if not maintype or not subtype or not _HEADER_NAME.match(content_type.strip()):
        return "application", "octet-stream"
    return maintype, subtype


def _set_headers(msg: EmailMessage, draft: Draft) -> None:
    msg["From"] = _address(draft.sender.email, draft.sender.name)
    msg["To"] = [_address(r.email, r.name) for r in draft.to] if draft.to else "undisclosed-recipients:;"
    if draft.cc:
        msg["Cc"] = [_address(r.email, r.name) for r in draft.cc]
    if draft.reply_to:
        msg["Reply-To"] = [_address(m.email, m.name) for m in draft.reply_to]
    msg["Subject"] = draft.subject
    msg["Date"] = format_datetime(draft.date)
    msg["Message-ID"] = f"<{draft.message_id}@{draft.hostname}>"
    for name, value in draft.headers.items():
        msg[name] = value
    msg[MESSAGE_ID_HEADER] = draft.message_id


def _set_body(msg: EmailMessage, draft: Draft) -> None:
    if draft.html is not None:
        if draft.text is not None:
            msg.set_content(draft.text, subtype="plain")
            msg.add_alternative(draft.html, subtype="html")
        else:
            msg.set_content(draft.html, subtype="html")
    else:
        msg.set_content(draft.text or "", subtype="plain")
    html_part = msg.get_body(("html",)) if draft.html is not None else None
    for attachment in draft.attachments:
        maintype, subtype = _split_type(attachment.content_type)
        if attachment.inline and html_part is not None:
            html_part.add_related(
                attachment.content,
                maintype,
                subtype,
                cid=f"<{attachment.content_id}>",
                filename=attachment.filename,
                disposition="inline",
            )
    for attachment in draft.attachments:
        if attachment.inline and html_part is not None:
            continue
        maintype, subtype = _split_type(attachment.content_type)
        cid = f"<{attachment.content_id}>" if attachment.content_id else None
        msg.add_attachment(
            attachment.content,
            maintype,
            subtype,
            filename=attachment.filename,
            disposition="inline" if attachment.disposition == "inline" else "attachment",
            cid=cid,
        )
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]


def build_mime(draft: Draft) -> bytes:
    """The message as it goes on the wire (CRLF line ends)."""
    msg = EmailMessage(policy=POLICY)
    try:
        _set_headers(msg, draft)
        _set_body(msg, draft)
        return msg.as_bytes()
    except MimeBuildError:
        raise
    except (ValueError, TypeError, HeaderParseError) as exc:
        raise MimeBuildError(f"cannot build the message: {exc}") from exc
