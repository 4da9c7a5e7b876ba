"""Issue 9, finding 2: the caps that keep parsing bounded answer with a clear error, through the real API
(docs/security.md, "Linear-time input handling")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from scaisend.mail.validation import MAX_HEADER_VALUE_LENGTH
from scaisend.templates.handlebars import MAX_DEPTH, MAX_SUBEXPRESSION_DEPTH, HandlebarsSyntaxError, parse
from tests.factories.messages import make_sender_domain, send_body
from tests.factories.tenants import TenantKey, make_tenant


@pytest.fixture
async def sender(app: FastAPI) -> TenantKey:
    owner = await make_tenant(app.state.resources.maker)
    await make_sender_domain(app.state.resources.maker, owner.tenant_id)
    return owner


async def _errors(client: httpx.AsyncClient, sender: TenantKey, **content: object) -> tuple[int, list[dict]]:
    response = await client.post("/v3/mail/send", headers=sender.headers, **content)  # type: ignore[arg-type]
    return response.status_code, response.json().get("errors", [])


async def test_deeply_nested_json_is_a_400_not_a_500(client: httpx.AsyncClient, sender: TenantKey) -> None:
    status, errors = await _errors(client, sender, content=b"[" * 200_000)
    assert status == 400
    assert errors[0]["message"] == "Invalid JSON in request body: nested too deeply"


async def test_a_custom_header_value_is_capped(client: httpx.AsyncClient, sender: TenantKey) -> None:
    body = send_body(headers={"X-Long": "é " * MAX_HEADER_VALUE_LENGTH})
    status, errors = await _errors(client, sender, json=body)
    assert status == 400
    assert (
        errors[0]["message"] == f"The value of the X-Long header may be at most {MAX_HEADER_VALUE_LENGTH} characters."
    )
    body = send_body(headers={"X-Long": "x" * MAX_HEADER_VALUE_LENGTH})
    status, _ = await _errors(client, sender, json=body)
    assert status == 202


async def test_substitutions_are_capped_at_10000_bytes(client: httpx.AsyncClient, sender: TenantKey) -> None:
    body = send_body()
    body["personalizations"][0]["substitutions"] = {f"-k{i}-": "v" * 100 for i in range(100)}  # about 10,500 bytes
    status, errors = await _errors(client, sender, json=body)
    assert status == 400
    assert errors[0]["field"] == "personalizations.0.substitutions"
    assert "10,000 bytes" in errors[0]["message"]


def test_else_if_chains_and_sub_expressions_have_a_depth_limit() -> None:
    ok = "{{#if a}}x" + "{{else if b}}y" * (MAX_DEPTH - 1) + "{{/if}}"
    parse(ok)
    with pytest.raises(HandlebarsSyntaxError, match="nested deeper than"):
        parse("{{#if a}}x" + "{{else if b}}y" * MAX_DEPTH + "{{/if}}")
    parse("{{#if " + "(equals 1 " * MAX_SUBEXPRESSION_DEPTH + "1" + ")" * MAX_SUBEXPRESSION_DEPTH + "}}x{{/if}}")
    with pytest.raises(HandlebarsSyntaxError, match="sub-expressions nested deeper"):
        parse("{{#if " + "(equals 1 " * 5000 + "1" + ")" * 5000 + "}}x{{/if}}")
