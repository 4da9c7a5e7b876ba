"""The inbound SMTP listener of the SMTP service (docs/inbound.md, D12, D41; port 25, dev 2525). It accepts mail only for
``BOUNCE_DOMAIN`` addresses (the VERP return paths) and the FBL address, and answers 250 once the message is
processed or kept: a bad report never crashes the listener and never makes the sender retry forever.

It shares the SMTP service's event loop with outbound delivery, so its work is strictly bounded (issue 9, finding 7;
D43): at most ``INBOUND_MAX_SESSIONS`` sessions at once (more are answered ``421`` and closed), sessions idle for
:data:`IDLE_TIMEOUT` seconds are dropped, at most ``INBOUND_MAX_RECIPIENTS`` recipients per session (more: ``452``),
messages of at most ``INBOUND_MAX_MESSAGE_BYTES`` (more: ``552``), at most :data:`MAX_CONCURRENT_REPORTS` reports
processed at once, with parsing and quarantine writes in worker threads so the loop keeps serving deliveries.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.clock import Clock
from scaisend.inbound.processing import handle_inbound
from scaisend.inbound.quarantine import quarantine
from scaisend.job_context import JobContext
from scaisend.logs import correlated
from scaisend.settings import Settings

logger = logging.getLogger(__name__)
IDLE_TIMEOUT: Final = 30.0  # seconds without a command before a session is dropped (aiosmtpd's default is 300)
MAX_CONCURRENT_REPORTS: Final = 4
BUSY_REPLY: Final = b"421 4.7.0 Too many connections, try again later\r\n"


class InboundHandler:
    def __init__(self, maker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
        self.maker = maker
        self.settings = settings
        self.clock = clock
        self._recipients: weakref.WeakKeyDictionary[Session, int] = weakref.WeakKeyDictionary()
        self._processing = asyncio.Semaphore(MAX_CONCURRENT_REPORTS)

    def accepts(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        domain = address.rpartition("@")[2]
        return domain == self.settings.BOUNCE_DOMAIN.lower() or address == self.settings.fbl_address.lower()

    async def handle_RCPT(
        self, _server: SMTP, session: Session, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        taken = self._recipients.get(session, 0)
        if taken >= self.settings.INBOUND_MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients in this session"
        if not self.accepts(address):
            return "550 5.1.1 No such mailbox here"
        self._recipients[session] = taken + 1
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # each report names only the message it matched (bound by handle_inbound)
        with correlated(fresh=True):
            async with self._processing:
                try:
                    outcome = await handle_inbound(self.maker, self.settings, self.clock, envelope.rcpt_tos, raw)
                    logger.info("inbound report", extra={"outcome": str(outcome), "rcpt_tos": envelope.rcpt_tos})
                except Exception:
                    logger.exception("inbound report failed; kept for inspection")
                    await asyncio.to_thread(quarantine, self.settings, raw, "error")
        return "250 2.0.0 OK"


class _CountedSMTP(SMTP):
    """aiosmtpd's session, telling the listener when it ends."""

    def __init__(self, handler: InboundHandler, on_close: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._on_close = on_close

    def connection_lost(self, error: Exception | None) -> None:
        try:
            super().connection_lost(error)
        finally:
            self._on_close()


class _Busy(asyncio.Protocol):
    """Answers a session over the limit with 421 and hangs up (RFC 5321 §3.8)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(BUSY_REPLY)
        transport.close()


class _SessionLimit:
    def __init__(self, handler: InboundHandler, settings: Settings) -> None:
        self.handler = handler
        self.settings = settings
        self.active = 0

    def _closed(self) -> None:
        self.active -= 1

    def __call__(self) -> asyncio.Protocol:
        if self.active >= self.settings.INBOUND_MAX_SESSIONS:
            logger.warning("inbound session refused: too many", extra={"active": self.active})
            return _Busy()
        self.active += 1
        return _CountedSMTP(
            self.handler,
            self._closed,
            hostname=self.settings.SMTP_HOSTNAME,
            data_size_limit=self.settings.INBOUND_MAX_MESSAGE_BYTES,
            decode_data=False,
            ident="ScaiSend inbound",
            timeout=IDLE_TIMEOUT,
        )


async def start_inbound_server(ctx: JobContext) -> Callable[[], Awaitable[None]]:
    """Listen on ``SMTP_INBOUND_HOST:SMTP_INBOUND_PORT`` in the running loop; returns the stop function."""
    settings: Settings = ctx["settings"]
    handler = InboundHandler(ctx["maker"], settings, ctx["clock"])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        _SessionLimit(handler, settings), host=settings.SMTP_INBOUND_HOST, port=settings.SMTP_INBOUND_PORT
    )
    logger.info("inbound listener started", extra={"port": settings.SMTP_INBOUND_PORT})

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return stop
