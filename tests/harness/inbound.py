"""The SMTP service's inbound DSN/FBL listener on loopback (``inbound`` fixture: its settings, with a port and a
quarantine folder of its own), and :func:`send_report`, which sends to it as a bouncing MTA does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest
from fastapi import FastAPI

from scaisend.clock import SystemClock
from scaisend.inbound.server import start_inbound_server
from scaisend.settings import Settings
from tests.harness.processes import free_port


@pytest.fixture
async def inbound(app: FastAPI, tmp_path: Path) -> AsyncIterator[Settings]:
    base: Settings = app.state.resources.settings
    settings = base.model_copy(
        update={
            "SMTP_INBOUND_HOST": "127.0.0.1",
            "SMTP_INBOUND_PORT": free_port(),
            "INBOUND_QUARANTINE_PATH": str(tmp_path / "inbound"),
        }
    )
    stop = await start_inbound_server(
        {"settings": settings, "maker": app.state.resources.maker, "clock": SystemClock()}
    )
    yield settings
    await stop()


async def send_report(settings: Settings, raw: bytes, rcpt: str) -> None:
    """Send as a bouncing MTA does: null reverse path (``MAIL FROM:<>``)."""
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=settings.SMTP_INBOUND_PORT, timeout=10, start_tls=False
    ) as client:
        await client.sendmail("", [rcpt], raw)


def quarantined(settings: Settings, reason: str) -> list[Path]:
    return sorted((Path(settings.INBOUND_QUARANTINE_PATH) / reason).glob("*.eml"))
