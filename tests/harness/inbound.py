"""The SMTP service's inbound DSN/FBL listener on loopback (``inbound`` fixture: its settings, with a port and a
quarantine folder of its own), and :func:`send_report`, which sends to it as a bouncing MTA does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosmtplib
import pytest
from fastapi import FastAPI

from scaisend.clock import SystemClock
from scaisend.inbound.server import start_inbound_server
from scaisend.settings import Settings
from tests.harness.processes import free_port


@asynccontextmanager
async def running_inbound(app: FastAPI, folder: Path, **overrides: object) -> AsyncIterator[Settings]:
    """The listener in this event loop, on a free port, quarantining under ``folder``; yields its settings."""
    base: Settings = app.state.resources.settings
    settings = base.model_copy(
        update={
            "SMTP_INBOUND_HOST": "127.0.0.1",
            "SMTP_INBOUND_PORT": free_port(),
            "INBOUND_QUARANTINE_PATH": str(folder),
            **overrides,
        }
    )
    stop = await start_inbound_server(
        {"settings": settings, "maker": app.state.resources.maker, "clock": SystemClock()}
    )
    try:
        yield settings
    finally:
        await stop()


@pytest.fixture
async def inbound(app: FastAPI, tmp_path: Path) -> AsyncIterator[Settings]:
    async with running_inbound(app, tmp_path / "inbound") as settings:
        yield settings


async def send_report(settings: Settings, raw: bytes, rcpt: str, *, timeout: float = 10) -> None:
    """Send as a bouncing MTA does: null reverse path (``MAIL FROM:<>``)."""
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=settings.SMTP_INBOUND_PORT, timeout=timeout, start_tls=False
    ) as client:
        await client.sendmail("", [rcpt], raw)


def quarantined(settings: Settings, reason: str) -> list[Path]:
    return sorted((Path(settings.INBOUND_QUARANTINE_PATH) / reason).glob("*.eml"))
