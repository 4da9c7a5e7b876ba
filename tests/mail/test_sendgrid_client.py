"""The official ``sendgrid`` Python client (docs/sendgrid-compatibility.md) against the real API served by uvicorn on a loopback
port: ``Mail`` objects built with its helpers are accepted with 202 and ``X-Message-Id``, and refusals reach it as
its own ``BadRequestsError`` with SendGrid's error body."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from python_http_client.exceptions import BadRequestsError, ForbiddenError  # type: ignore[import-untyped]
from sendgrid import SendGridAPIClient  # type: ignore[import-untyped]
from sendgrid.helpers.mail import (  # type: ignore[import-untyped]
    Asm,
    Attachment,
    Category,
    ClickTracking,
    ContentId,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Header,
    Mail,
    MailSettings,
    OpenTracking,
    Personalization,
    SandBoxMode,
    SendAt,
    To,
    TrackingSettings,
)

from scaisend.api.app import create_app
from scaisend.settings import Settings
from tests.factories.messages import SENDER, create_asm_group, create_template, message_row
from tests.factories.tenants import TenantKey
from tests.harness.processes import free_port


@pytest.fixture(scope="module")
def api_url(database: Settings) -> Iterator[str]:
    """The API in a uvicorn server on its own thread and event loop; its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(database), host="127.0.0.1", port=port, log_config=None, lifespan="on", ws="none")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


async def sg_send(api_url: str, owner: TenantKey, mail: Mail) -> Any:
    """``SendGridAPIClient.send`` (synchronous) off the event loop."""
    return await asyncio.to_thread(SendGridAPIClient(owner.key, host=api_url).send, mail)


def inline_logo() -> Attachment:
    return Attachment(
        FileContent(base64.b64encode(b"\x89PNG fake").decode()),
        FileName("logo.png"),
        FileType("image/png"),
        Disposition("inline"),
        ContentId("logo"),
    )


async def test_a_full_mail_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, api_url: str, sender: TenantKey
) -> None:
    mail = Mail(
        from_email=(SENDER, "News"),
        to_emails=To("ann@example.org", "Ann"),
        subject="Spring news",
        plain_text_content="Hello Ann",
        html_content='<p>Hello Ann <img src="cid:logo"></p>',
    )
    mail.attachment = inline_logo()
    mail.category = [Category("news"), Category("spring")]
    mail.custom_arg = CustomArg("campaign", "spring")
    mail.header = Header("X-Campaign", "spring")
    mail.send_at = SendAt(int((datetime.now(UTC) + timedelta(hours=1)).timestamp()))
    mail.asm = Asm(await create_asm_group(client, sender))
    mail.tracking_settings = TrackingSettings(
        click_tracking=ClickTracking(True, False), open_tracking=OpenTracking(True)
    )
    response = await sg_send(api_url, sender, mail)
    assert response.status_code == 202
    message_id = response.headers["X-Message-Id"]
    row = await message_row(app.state.resources.maker, message_id)
    assert (row.status, row.from_email, row.subject, row.to_emails) == (
        "queued",
        SENDER,
        "Spring news",
        ["ann@example.org"],
    )
    assert (sorted(row.categories), row.custom_args) == (["news", "spring"], {"campaign": "spring"})
    assert row.send_at is not None


async def test_several_personalizations(app: FastAPI, api_url: str, sender: TenantKey) -> None:
    mail = Mail(
        from_email=SENDER,
        to_emails=[To("a@example.org"), To("b@example.org")],
        subject="Hi",
        plain_text_content="Hi",
        is_multiple=True,
    )
    response = await sg_send(api_url, sender, mail)
    assert response.status_code == 202
    ids = json.loads(response.body)["message_ids"]
    assert response.headers["X-Message-Id"] == ids[0]
    # the client puts each new personalization first; each message is one of them
    assert sorted([(await message_row(app.state.resources.maker, i)).to_emails for i in ids]) == [
        ["a@example.org"],
        ["b@example.org"],
    ]


async def test_sandbox_mode_on_a_personalized_template_send(
    app: FastAPI, client: httpx.AsyncClient, api_url: str, sender: TenantKey
) -> None:
    template_id = await create_template(client, sender)
    mail = Mail(from_email=SENDER)
    personalization = Personalization()
    personalization.add_to(To("ann@example.org"))
    personalization.dynamic_template_data = {"name": "Ann"}
    mail.add_personalization(personalization)
    mail.template_id = template_id
    mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    response = await sg_send(api_url, sender, mail)
    assert response.status_code == 202
    row = await message_row(app.state.resources.maker, response.headers["X-Message-Id"])
    assert (row.status, row.template_id, row.personalization["dynamic_template_data"]) == (
        "sandbox",
        template_id,
        {"name": "Ann"},
    )


async def test_refusals_reach_the_client_as_its_errors(
    api_url: str, sender: TenantKey, other_tenant: TenantKey
) -> None:
    bad = Mail(from_email=SENDER, to_emails="bad@no-dot", subject="Hi", plain_text_content="Hi")
    with pytest.raises(BadRequestsError) as refused:
        await sg_send(api_url, sender, bad)
    assert refused.value.to_dict["errors"][0]["field"] == "personalizations.0.to.0.email"

    unverified = Mail(from_email=SENDER, to_emails="a@example.org", subject="Hi", plain_text_content="Hi")
    with pytest.raises(ForbiddenError) as forbidden:
        await sg_send(api_url, other_tenant, unverified)
    assert forbidden.value.to_dict["errors"][0]["message"] == "Sender domain not verified"
