"""JSON log lines (D19): one object per line on stdout with ``timestamp``, ``level``, ``message``, ``service`` and,
where known, ``request_id``, ``trace_id``, ``tenant_id`` and ``message_id`` taken from context variables.

Correlation (issue 12, D55-D57): the API sets ``request_id`` and ``trace_id`` per request; a job carries the fields
of the context that enqueued it in its payload (:func:`job_fields`, the ``correlation`` keyword) and the worker's
job wrapper (``scaisend.workers.job_logging``) restores them with :func:`correlated` before the job runs; a stage
that loads a message binds its ids with :func:`bind`.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id_var: ContextVar[str | None] = ContextVar("tenant_id", default=None)
message_id_var: ContextVar[str | None] = ContextVar("message_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)

_CONTEXT_VARS = {
    "request_id": request_id_var,
    "trace_id": trace_id_var,
    "tenant_id": tenant_id_var,
    "message_id": message_id_var,
}
SHIPPED_LABELS: tuple[str, ...] = ("service", "level", "tenant_id")
"""The fields a log shipper makes labels (bounded values, D59); the correlation ids stay in the line."""
JOB_CORRELATION_KWARG = "correlation"
"""The keyword argument of every job that carries its correlation fields (a dict of strings, JSON-serializable)."""


def current_fields() -> dict[str, str]:
    """The correlation fields set in this context."""
    return {name: value for name, var in _CONTEXT_VARS.items() if (value := var.get()) is not None}


def job_fields(**overrides: str | None) -> dict[str, str]:
    """The payload of a job's ``correlation`` keyword: this context's fields, with each override that is not
    ``None`` taking precedence (``job_fields(message_id=m.id, request_id=m.api_request_id)``)."""
    unknown = set(overrides) - set(_CONTEXT_VARS)
    if unknown:
        raise ValueError(f"unknown correlation fields {sorted(unknown)}")
    return {**current_fields(), **{k: v for k, v in overrides.items() if v is not None}}


def bind(**fields: str | None) -> None:
    """Set the given correlation fields (``None`` leaves a field as it is) for the rest of this context; use inside
    :func:`correlated` (or a request), which restores them afterwards."""
    for name, value in fields.items():
        if value is not None:
            _CONTEXT_VARS[name].set(value)


_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


def trace_id_of(traceparent: str) -> str | None:
    """The trace id of a W3C ``traceparent`` header (Trace Context level 1, docs/security.md, D46), or ``None`` when the header is
    not valid: version ``ff``, an all-zero trace or parent id, or (version 00) anything after the flags."""
    match = _TRACEPARENT_RE.match(traceparent.strip())
    if match is None:
        return None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    return trace_id


def new_trace_id() -> str:
    return secrets.token_hex(16)


def traceparent(trace_id: str, sampled: bool = True) -> str:
    """A ``traceparent`` header continuing ``trace_id`` with a new span (parent) id, for an outgoing request."""
    return f"00-{trace_id}-{secrets.token_hex(8)}-{'01' if sampled else '00'}"


@contextmanager
def correlated(fields: Mapping[str, object] | None = None, *, fresh: bool = False) -> Iterator[None]:
    """A block with its own correlation fields: the current ones (none when ``fresh``) updated by ``fields``
    (unknown keys and non-string values ignored); every field is restored on exit, also those set by :func:`bind`
    inside."""
    given = {k: v for k, v in (fields or {}).items() if k in _CONTEXT_VARS and isinstance(v, str) and v}
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for name, var in _CONTEXT_VARS.items():
        value = given.get(name, None if fresh else var.get())
        tokens.append((var, var.set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        for name, var in _CONTEXT_VARS.items():
            if getattr(record, name, None) is None:
                value = var.get()
                if value is not None:
                    setattr(record, name, value)
        return True


class _Formatter(JsonFormatter):
    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["timestamp"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        for key in ("levelname", "name"):
            log_record.pop(key, None)


def configure_logging(service: str, level: str = "INFO", stream: Any = None) -> None:
    """Route every logger (ours, uvicorn's, arq's) to one JSON handler on stdout."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(_Formatter("%(message)s %(service)s"))
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "arq.worker", "mail.log", "aiosmtpd"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # uvicorn's access log duplicates our request log line
    logging.getLogger("uvicorn.access").disabled = True
    # aiosmtpd logs every SMTP command at INFO (every address of the conversation, before anything is matched):
    # only its warnings and errors are kept (D58); our own "inbound report" line says what a report did
    logging.getLogger("mail.log").setLevel(max(logging.WARNING, root.level))
