"""Fixtures for the inbound tests: a sent message to report on, and the fixture corpus with its placeholders
(``@@MESSAGE_ID@@``, ``@@RECIPIENT@@``, ``@@BOUNCE_DOMAIN@@``, ``@@FBL_ADDRESS@@``, and ``@@VERP@@``, the return path
the delivery stage signed for that message and recipient) filled in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from scaisend.delivery.envelope import ReturnPathSigner
from scaisend.settings import Settings
from tests.factories.sent import SentMessage, make_sent_message
from tests.factories.tenants import TenantKey

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
async def sent_message(app: FastAPI, tenant: TenantKey) -> SentMessage:
    return await make_sent_message(app.state.resources.maker, tenant.tenant_id)


NO_MESSAGE = SentMessage("msg_00000000000000000000000000", "tnt_none", "nobody@recipient.example")


def signed_verp(settings: Settings, message: SentMessage | None) -> str:
    """The return path delivery used for ``message`` (its one recipient), as a DSN for it is addressed."""
    message = message or NO_MESSAGE
    return ReturnPathSigner.from_settings(settings).sender(message.id, message.recipient, settings.BOUNCE_DOMAIN)


@pytest.fixture
def fixture_bytes(database: Settings) -> Callable[[str, SentMessage | None], bytes]:
    def load(name: str, message: SentMessage | None = None) -> bytes:
        raw = (FIXTURES / name).read_bytes()
        replacements = {
            b"@@VERP@@": signed_verp(database, message).encode(),
            b"@@BOUNCE_DOMAIN@@": database.BOUNCE_DOMAIN.encode(),
            b"@@FBL_ADDRESS@@": database.fbl_address.encode(),
            b"@@MESSAGE_ID@@": (message or NO_MESSAGE).id.encode(),
            b"@@RECIPIENT@@": (message or NO_MESSAGE).recipient.encode(),
        }
        for placeholder, value in replacements.items():
            raw = raw.replace(placeholder, value)
        return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    return load
