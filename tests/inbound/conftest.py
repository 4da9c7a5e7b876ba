"""Fixtures for the inbound tests: a sent message to report on, and the fixture corpus with its placeholders
(``@@MESSAGE_ID@@``, ``@@RECIPIENT@@``, ``@@BOUNCE_DOMAIN@@``, ``@@FBL_ADDRESS@@``) filled in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from scaisend.db.session import unit_of_work
from scaisend.ids import new_id
from scaisend.models import Message, MessageStatus
from scaisend.settings import Settings
from tests.factories.tenants import TenantKey

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass(frozen=True)
class SentMessage:
    id: str
    tenant_id: str
    recipient: str


@pytest.fixture
async def sent_message(app: FastAPI, tenant: TenantKey) -> SentMessage:
    recipient = f"user-{uuid.uuid4().hex[:8]}@recipient.example"
    message_id = new_id("msg")
    async with unit_of_work(app.state.resources.maker) as session:
        session.add(Message(id=message_id, tenant_id=tenant.tenant_id, status=MessageStatus.DELIVERED,
                            from_email="sender@sender.example", to_emails=[recipient], categories=["receipts"],
                            personalization={"to": [{"email": recipient}]}, custom_args={},
                            delivered_at=datetime.now(UTC)))
    return SentMessage(message_id, tenant.tenant_id, recipient)


@pytest.fixture
def fixture_bytes(database: Settings) -> Callable[[str, SentMessage | None], bytes]:
    def load(name: str, message: SentMessage | None = None) -> bytes:
        raw = (FIXTURES / name).read_bytes()
        replacements = {
            b"@@BOUNCE_DOMAIN@@": database.BOUNCE_DOMAIN.encode(),
            b"@@FBL_ADDRESS@@": database.fbl_address.encode(),
            b"@@MESSAGE_ID@@": (message.id if message else "msg_00000000000000000000000000").encode(),
            b"@@RECIPIENT@@": (message.recipient if message else "nobody@recipient.example").encode(),
        }
        for placeholder, value in replacements.items():
            raw = raw.replace(placeholder, value)
        return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    return load
