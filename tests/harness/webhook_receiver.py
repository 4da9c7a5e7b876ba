"""A real HTTP webhook receiver on loopback for webhook tests (docs/architecture.md, D27).

A ``ThreadingHTTPServer`` on 127.0.0.1 with a free port, in a background thread, so it answers while the test's
event loop is busy POSTing to it. It records every request (method, path, headers, raw body) and answers POSTs from a
script::

    with WebhookReceiver() as receiver:
        receiver.respond(500, 500, 200)                 # per POST, in order; the last reply repeats
        receiver.respond(Reply(200, delay=2.0))         # answer after a pause (client timeouts)
        receiver.respond(redirect("http://elsewhere/")) # a 302 with Location
        receiver.serve_token("/oauth/token", expires_in=3600)  # an OAuth2 token endpoint: tok-1, tok-2, ...
        url = receiver.url("/hook")
        ...
        assert receiver.posts("/hook")[0].json()["event_type"] == "delivered"

Scripts may be given per path (``respond(..., path="/a")``); a path without its own script uses the default one.
Unscripted POSTs get ``200 ok``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

__all__ = ["ReceivedRequest", "Reply", "WebhookReceiver", "redirect"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, body, extra headers, and a delay before answering."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", {"Location": location})


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: Message
    body: bytes
    received_at: float

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.text).items()}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            self.wfile.write(reply.body)

    def _handle(self) -> None:
        path = self.path.split("?", 1)[0]
        request = ReceivedRequest(self.command, path, self.headers, self._read(), time.time())
        self._answer(self.server.owner.record(request))

    do_POST = _handle
    do_GET = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients dropping keep-alive connections is normal
            super().handle_error(request, client_address)


class WebhookReceiver:
    """The receiver; use as a (sync or async) context manager, or call :meth:`start` / :meth:`stop`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[ReceivedRequest] = []
        self._scripts: dict[str | None, list[Reply]] = defaultdict(list)
        self._tokens: dict[str, tuple[str, int | None]] = {}
        self._token_count = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -----

    def start(self) -> Self:
        server = _Server((self.host, 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "receiver not started"
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    # ----- scripting -----

    def respond(self, *replies: Reply | int, path: str | None = None) -> None:
        """Queue answers for POSTs (to ``path``, or to any path without its own script); the last one repeats."""
        with self._lock:
            self._scripts[path] = [r if isinstance(r, Reply) else Reply(r) for r in replies]

    def serve_token(self, path: str = "/oauth/token", *, prefix: str = "tok", expires_in: int | None = 3600) -> str:
        """Make ``path`` an OAuth2 token endpoint answering ``{prefix}-1``, ``{prefix}-2``, …; returns its URL."""
        with self._lock:
            self._tokens[path] = (prefix, expires_in)
        return self.url(path)

    def record(self, request: ReceivedRequest) -> Reply:
        """Store ``request`` and pick its answer (called from the server threads)."""
        with self._lock:
            self.requests.append(request)
            if request.path in self._tokens:
                prefix, expires_in = self._tokens[request.path]
                self._token_count += 1
                token: dict[str, Any] = {"access_token": f"{prefix}-{self._token_count}", "token_type": "Bearer"}
                if expires_in is not None:
                    token["expires_in"] = expires_in
                return Reply(200, json.dumps(token).encode(), {"Content-Type": "application/json"})
            key = request.path if request.path in self._scripts else None
            script = self._scripts.get(key) or []
            if not script:
                return Reply()
            return script.pop(0) if len(script) > 1 else script[0]

    # ----- inspection -----

    def posts(self, path: str | None = None) -> list[ReceivedRequest]:
        """POSTs received (to ``path`` when given), oldest first; token requests are excluded."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and r.path not in self._tokens and (path is None or r.path == path)
            ]

    def token_requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path in self._tokens]

    async def wait_for(self, count: int, path: str | None = None, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Wait (bounded) until at least ``count`` POSTs arrived."""
        deadline = time.monotonic() + timeout
        while len(self.posts(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} POSTs, got {len(self.posts(path))}")
            await asyncio.sleep(0.01)
        return self.posts(path)
