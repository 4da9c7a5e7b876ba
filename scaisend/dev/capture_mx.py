"""The capture MX of ``scaisend dev`` (D16, D17: port 2526): an aiosmtpd server that accepts every message for every
recipient and stores it as an ``.eml`` file instead of delivering it.

``SMTP_RELAY_HOST`` points the SMTP service here, so all outbound mail of the embedded setup lands in one folder. One
file is written per message *and* recipient, with ``Return-Path`` and ``Delivered-To`` headers put in front (as a
mailbox would), named ``<UTC time with microseconds>Z-<recipient index>-<recipient>.eml`` so that sorting the names
sorts by arrival. Files appear atomically (written under a temporary name, then renamed).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from aiosmtpd.smtp import SMTP, Envelope, Session

DEFAULT_PORT = 2526
MAX_MESSAGE_BYTES = 50 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]+")


@dataclass(frozen=True)
class CapturedMessage:
    """One stored file: the envelope sender, the one recipient it was stored for, and where it is."""

    mail_from: str
    rcpt_to: str
    path: Path


def _file_stem(arrival_ns: int, index: int, rcpt: str) -> str:
    stamp = datetime.fromtimestamp(arrival_ns // 1_000_000_000, UTC).strftime("%Y%m%dT%H%M%S")
    micros = (arrival_ns // 1000) % 1_000_000
    safe = _UNSAFE.sub("_", rcpt)[:100] or "unknown"
    return f"{stamp}.{micros:06d}Z-{index:03d}-{safe}"


class CaptureHandler:
    """aiosmtpd handler that writes each accepted message to ``folder``.

    :param folder: where ``.eml`` files go (created when missing)
    :param on_stored: called (on the event loop) with what was stored for each message
    """

    def __init__(self, folder: Path, on_stored: Callable[[list[CapturedMessage]], None] | None = None) -> None:
        self.folder = folder
        self.on_stored = on_stored
        self._last_ns = 0

    def _arrival_ns(self) -> int:
        """Wall-clock nanoseconds, forced to grow by at least a microsecond per message so names never tie."""
        now = max(time.time_ns(), self._last_ns + 1000)
        self._last_ns = now
        return now

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        mail_from = envelope.mail_from or ""
        arrival = self._arrival_ns()  # taken on the loop, so names follow arrival order
        plan = [(rcpt, self.folder / f"{_file_stem(arrival, i, rcpt)}.eml") for i, rcpt in enumerate(envelope.rcpt_tos)]
        await asyncio.to_thread(self._write_all, mail_from, content, plan)
        stored = [CapturedMessage(mail_from, rcpt, path) for rcpt, path in plan]
        if self.on_stored is not None:
            self.on_stored(stored)
        return "250 2.0.0 Ok: captured"

    def _write_all(self, mail_from: str, content: bytes, plan: list[tuple[str, Path]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for rcpt, path in plan:
            head = f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode("utf-8", "surrogateescape")
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(head + content)
            tmp.replace(path)


class CaptureMX:
    """The capture MX as an asyncio server on the running loop.

    :param folder: the mailbox folder (``.scaisend/mail``)
    :param host: address to listen on
    :param port: port to listen on (``0`` picks a free one; read :attr:`port` after :meth:`start`)
    """

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        on_stored: Callable[[list[CapturedMessage]], None] | None = None,
    ) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self.handler = CaptureHandler(folder, on_stored)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self.handler,
                hostname="capture-mx.scaisend.localhost",
                ident="ScaiSend dev capture MX",
                enable_SMTPUTF8=True,
                data_size_limit=MAX_MESSAGE_BYTES,
            ),
            self.host,
            self.port,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    def messages(self) -> list[Path]:
        """The stored files, oldest first."""
        return sorted(self.folder.glob("*.eml"))

    async def __aenter__(self) -> CaptureMX:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
