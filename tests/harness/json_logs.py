"""The JSON log lines a process would print (``scaisend.logs.configure_logging``), captured in memory for a test that
runs product code in its own process, and the lines of a real process's output parsed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CORRELATION_KEYS = ("request_id", "trace_id", "tenant_id", "message_id")


@contextmanager
def captured_json_logs(service: str) -> Iterator[io.StringIO]:
    """Route every logger to one JSON handler writing into the yielded buffer; the root logger is restored after."""
    from scaisend.logs import configure_logging

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    access = logging.getLogger("uvicorn.access")
    access_disabled = access.disabled
    stream = io.StringIO()
    configure_logging(service, stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        access.disabled = access_disabled


def parse_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line as a JSON object (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
