"""One webhook POST (docs/webhooks.md, D6, D7, D8): the exact body bytes, the signed headers of each target kind, and the
request itself.

- endpoints get one envelope (docs/webhooks.md, D6) per POST, signed with ``X-ScaiSend-Signature`` (:mod:`.signing`) and labelled with
  ``X-ScaiSend-Event-Id`` / ``X-ScaiSend-Event-Type``;
- the Event Webhook gets a JSON array of SendGrid-format events, with the ECDSA headers when signing is on
  (:mod:`.event_webhook_signing`).

The body is serialised once and those bytes are both signed and sent. Success is any 2xx received within
``WEBHOOK_TIMEOUT`` (a total deadline, not per phase); redirects are never followed (a 3xx is a failure); the response
body is never read.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Final

import httpx

from scaisend import __version__
from scaisend.webhooks import event_webhook_signing, signing
from scaisend.webhooks.url_guard import Target

USER_AGENT: Final = f"ScaiSend-Webhooks/{__version__}"


@dataclass(frozen=True)
class AttemptResult:
    """What one POST achieved: ``ok`` for a 2xx; otherwise the status (if any answer came) and why it failed."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


def encode(payload: Any) -> bytes:
    """The JSON body bytes (compact, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def endpoint_request(payload: dict[str, Any], secret: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    body = encode(payload)
    return body, {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signing.signature_header(secret, timestamp, body),
        signing.EVENT_ID_HEADER: str(payload["event_id"]),
        signing.EVENT_TYPE_HEADER: str(payload["event_type"]),
    }


def event_webhook_request(
    events: list[dict[str, Any]], private_key_pem: str | None, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    body = encode(events)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if private_key_pem:
        headers.update(event_webhook_signing.signature_headers(private_key_pem, timestamp, body))
    return body, headers


async def post(
    http: httpx.AsyncClient, target: Target, body: bytes, headers: dict[str, str], timeout: float
) -> AttemptResult:
    """POST ``body`` to ``target`` and classify the answer."""
    try:
        async with asyncio.timeout(timeout):
            async with http.stream(
                "POST",
                target.url,
                content=body,
                headers={**headers, **target.headers},
                extensions=target.extensions,
                follow_redirects=False,
                timeout=timeout,
            ) as response:
                status, location = response.status_code, response.headers.get("location")
    except (TimeoutError, httpx.TimeoutException):
        return AttemptResult(False, None, f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return AttemptResult(False, None, f"{type(exc).__name__}: {exc}"[:1000])
    if 200 <= status < 300:
        return AttemptResult(True, status)
    if 300 <= status < 400:
        return AttemptResult(False, status, f"HTTP {status}: redirect to {location} not followed")
    return AttemptResult(False, status, f"HTTP {status}")
