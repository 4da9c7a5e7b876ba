"""``POST /v3/mail/send`` refusals (docs/sending.md; docs/sendgrid-compatibility.md) as a user sees them: the corpus of invalid
requests under ``tests/fixtures/sendgrid_requests/invalid`` (each file is a request body plus an ``expected`` key
with the status and the error fields), and the decoding of the raw body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from scaisend.mail.error_messages import HELP_BASE
from tests.factories.messages import send_body
from tests.factories.tenants import TenantKey

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "sendgrid_requests" / "invalid"
CORPUS_FILES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))}


def test_the_corpus_has_at_least_40_requests() -> None:
    assert len(CORPUS_FILES) >= 40


def assert_sendgrid_errors(response: httpx.Response, status: int, fields: list[str | None]) -> list[dict[str, Any]]:
    """The response is ``status`` with exactly these error fields, each with a message and (for a field of a 400) a
    help link to SendGrid's errors page."""
    assert response.status_code == status, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert sorted(str(e["field"]) for e in errors) == sorted(str(f) for f in fields), errors
    for item in errors:
        assert set(item) == {"message", "field", "help"}
        assert item["message"]
        if item["field"] is not None and status == 400:
            assert item["help"].startswith(HELP_BASE + "#message."), item
    return errors


@pytest.mark.parametrize("name", list(CORPUS_FILES))
async def test_invalid_request_is_refused(name: str, client: httpx.AsyncClient, sender: TenantKey) -> None:
    body = dict(CORPUS_FILES[name])
    expected = body.pop("expected")
    response = await client.post("/v3/mail/send", headers=sender.headers, json=body)
    assert_sendgrid_errors(response, expected["status"], expected["fields"])


class TestMessages:
    """A few of SendGrid's exact sentences, so clients that match on them keep working."""

    async def test_from_address(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post(
            "/v3/mail/send", headers=sender.headers, json=send_body(**{"from": {"email": "nope"}})
        )
        assert response.json() == {
            "errors": [
                {
                    "message": "The from email does not contain a valid address.",
                    "field": "from.email",
                    "help": f"{HELP_BASE}#message.from",
                }
            ]
        }

    async def test_content_value(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post(
            "/v3/mail/send", headers=sender.headers, json=send_body(content=[{"type": "text/plain", "value": ""}])
        )
        assert response.json()["errors"] == [
            {
                "message": "The content value must be a string at least one character in length.",
                "field": "content.0.value",
                "help": f"{HELP_BASE}#message.content.value",
            }
        ]

    async def test_recipient_address_and_duplicate(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        body = send_body(
            personalizations=[
                {"to": [{"email": "ok@example.org"}]},
                {"to": [{"email": "a@example.org"}, {"email": "bad"}], "bcc": [{"email": "A@example.org"}]},
            ]
        )
        errors = (await client.post("/v3/mail/send", headers=sender.headers, json=body)).json()["errors"]
        assert errors[0] == {
            "message": "Does not contain a valid address.",
            "field": "personalizations.1.to.1.email",
            "help": f"{HELP_BASE}#message.personalizations.to",
        }
        assert errors[1]["field"] == "personalizations.1"
        assert errors[1]["help"] == f"{HELP_BASE}#message.recipient-errors"
        assert "[A@example.org]" in errors[1]["message"]

    async def test_no_personalization(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body(personalizations=[]))
        assert response.json()["errors"][0]["message"] == "You must have at least one personalization."

    async def test_72_hours(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body(send_at=4102444800))
        assert response.json()["errors"][0]["message"] == "Scheduling more than 72 hours in advance is forbidden."


class TestRawBody:
    async def test_invalid_json_is_400_in_sendgrid_shape(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post(
            "/v3/mail/send",
            headers={**sender.headers, "Content-Type": "application/json"},
            content=b'{"personalizations": [',
        )
        assert response.status_code == 400
        [item] = response.json()["errors"]
        assert item["message"].startswith("Invalid JSON in request body")
        assert item["field"] is None

    async def test_nan_is_not_json(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=sender.headers, content=b'{"send_at": NaN}')
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"].startswith("Invalid JSON")

    async def test_invalid_utf8_is_415(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=sender.headers, content=b'{"subject": "\xff\xfe"}')
        assert response.status_code == 415
        assert response.json() == {"errors": [{"message": "Invalid UTF8 in request", "field": None, "help": None}]}

    async def test_a_json_array_is_400(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=sender.headers, json=[send_body()])
        assert_sendgrid_errors(response, 400, [None])
        assert response.json()["errors"][0]["message"] == "The request body must be a JSON object."

    async def test_21_mb_body_is_413_in_sendgrid_shape(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        attachment = {"content": "A" * (21 * 1024 * 1024), "filename": "big.bin"}
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body(attachments=[attachment]))
        assert response.status_code == 413
        [item] = response.json()["errors"]
        assert item["field"] is None
        assert "too large" in item["message"]
