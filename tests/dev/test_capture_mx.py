"""The capture MX (D16): what aiosmtplib sends is stored as one ``.eml`` per message and recipient, in arrival
order."""

from __future__ import annotations

import email
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from scaisend.dev.capture_mx import CapturedMessage, CaptureMX


def _message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "demo@demo.scaisend.example"
    msg["To"] = "alice@example.com"
    msg["Subject"] = subject
    msg.set_content("Hello from the capture MX test. Ünïcödé too.")
    return msg


async def test_stores_one_eml_per_recipient_in_arrival_order(tmp_path: Path) -> None:
    seen: list[CapturedMessage] = []
    mailbox = tmp_path / "mail"
    async with CaptureMX(mailbox, port=0, on_stored=seen.extend) as mx:
        await aiosmtplib.send(
            _message("first"),
            hostname="127.0.0.1",
            port=mx.port,
            sender="bounces+msg_1@bounces.localhost",
            recipients=["alice@example.com"],
        )
        await aiosmtplib.send(
            _message("second"),
            hostname="127.0.0.1",
            port=mx.port,
            sender="bounces+msg_2@bounces.localhost",
            recipients=["bob@example.com", "carol@example.org"],
        )
        files = mx.messages()

    assert [f.name.split("-", 2)[2] for f in files] == [
        "alice@example.com.eml",
        "bob@example.com.eml",
        "carol@example.org.eml",
    ]
    assert [c.path for c in seen] == files
    first = email.message_from_bytes(files[0].read_bytes())
    assert first["Subject"] == "first"
    assert first["Return-Path"] == "<bounces+msg_1@bounces.localhost>"
    assert first["Delivered-To"] == "alice@example.com"
    body = first.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "Hello from the capture MX test" in body.decode()
    third = email.message_from_bytes(files[2].read_bytes())
    assert (third["Subject"], third["Delivered-To"]) == ("second", "carol@example.org")
    assert not list(mailbox.glob(".*.tmp"))


async def test_port_is_released_after_stop(tmp_path: Path) -> None:
    mx = CaptureMX(tmp_path, port=0)
    await mx.start()
    port = mx.port
    await mx.stop()
    again = CaptureMX(tmp_path, port=port)
    await again.start()  # would raise EADDRINUSE if the first server still listened
    await again.stop()
