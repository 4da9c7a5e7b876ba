"""ASGI middleware, outermost first:

- :class:`RequestContextMiddleware`: honours or generates ``X-Request-ID`` (D19), returns it on every response
  including errors, takes the trace id of a W3C ``traceparent`` (or starts a trace, D57) for the log context, logs one JSON line per request, records RED metrics by route template, and turns an unhandled
  exception into a ``500 {"detail": "Internal Server Error"}`` that still carries the request id.
- :class:`BodyLimitMiddleware`: refuses bodies over ``MAX_BODY_BYTES`` with ``413`` from ``Content-Length`` or, for
  chunked bodies, as soon as the running count passes the limit, without reading the rest into memory.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scaisend import metrics
from scaisend.logs import message_id_var, new_trace_id, request_id_var, tenant_id_var, trace_id_of, trace_id_var

logger = logging.getLogger("scaisend.api.access")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
SENDGRID_SHAPED_PREFIXES = ("/v3/mail/",)


def error_body(path: str, message: str) -> dict[str, Any]:
    """An error in the documented shape of ``path``'s family: SendGrid's on sending routes, ``detail`` elsewhere."""
    if path.startswith(SENDGRID_SHAPED_PREFIXES):
        return {"errors": [{"message": message, "field": None, "help": None}]}
    return {"detail": message}


async def send_json_error(
    send: Send, path: str, status: int, message: str, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(error_body(path, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        trace_id = trace_id_of(headers.get(b"traceparent", b"").decode("latin-1")) or new_trace_id()
        rid_token = request_id_var.set(request_id)
        trace_token = trace_id_var.set(trace_id)
        tenant_token = tenant_id_var.set(None)
        message_token = message_id_var.set(None)
        header = (b"x-request-id", request_id.encode())
        state: dict[str, Any] = {"status": 500, "started": False}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope["path"], "method": scope["method"]})
            if not state["started"]:
                state["status"] = 500
                await send_json_error(send, scope["path"], 500, "Internal Server Error", [header])
        finally:
            elapsed = time.perf_counter() - start
            template = getattr(scope.get("route"), "path", None) or metrics.UNMATCHED_ROUTE
            status = int(state["status"])
            metrics.observe_http_request(template, scope["method"], status, elapsed)
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            message_id_var.reset(message_token)
            tenant_id_var.reset(tenant_token)
            trace_id_var.reset(trace_token)
            request_id_var.reset(rid_token)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        too_large = f"Request body too large (limit {self.max_bytes} bytes)"
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await send_json_error(send, scope["path"], 413, too_large)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await send_json_error(send, scope["path"], 413, too_large)


class _BodyTooLarge(Exception):
    pass
