"""The inbound SMTP listener of the SMTP service (spec §6.6; port 25, dev 2525). It accepts mail only for
``BOUNCE_DOMAIN`` addresses (the VERP return paths) and the FBL address, and answers 250 once the message is
processed or kept: a bad report never crashes the listener and never makes the sender retry forever."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.clock import Clock
from scaisend.inbound.processing import handle_inbound, quarantine
from scaisend.logs import correlated
from scaisend.settings import Settings

logger = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 25 * 1024 * 1024


class InboundHandler:
    def __init__(self, maker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock) -> None:
        self.maker = maker
        self.settings = settings
        self.clock = clock

    def accepts(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        domain = address.rpartition("@")[2]
        return domain == self.settings.BOUNCE_DOMAIN.lower() or address == self.settings.fbl_address.lower()

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: list[str]
    ) -> str:
        if not self.accepts(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        with correlated(fresh=True):  # each report names only the message it matched (bound by handle_inbound)
            try:
                outcome = await handle_inbound(self.maker, self.settings, self.clock, envelope.rcpt_tos, raw)
                logger.info("inbound report", extra={"outcome": str(outcome), "rcpt_tos": envelope.rcpt_tos})
            except Exception:
                logger.exception("inbound report failed; kept for inspection")
                quarantine(self.settings, raw, "error")
        return "250 2.0.0 OK"


async def start_inbound_server(ctx: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    """Listen on ``SMTP_INBOUND_HOST:SMTP_INBOUND_PORT`` in the running loop; returns the stop function."""
    settings: Settings = ctx["settings"]
    handler = InboundHandler(ctx["maker"], settings, ctx["clock"])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname=settings.SMTP_HOSTNAME,
            data_size_limit=MAX_MESSAGE_BYTES,
            decode_data=False,
            ident="ScaiSend inbound",
        ),
        host=settings.SMTP_INBOUND_HOST,
        port=settings.SMTP_INBOUND_PORT,
    )
    logger.info("inbound listener started", extra={"port": settings.SMTP_INBOUND_PORT})

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return stop
