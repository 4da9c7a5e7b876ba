"""JSON log lines (D19): one object per line on stdout with ``timestamp``, ``level``, ``message``, ``service`` and,
where known, ``request_id``, ``tenant_id`` and ``message_id`` taken from context variables."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
tenant_id_var: ContextVar[str | None] = ContextVar("tenant_id", default=None)
message_id_var: ContextVar[str | None] = ContextVar("message_id", default=None)

_CONTEXT_VARS = {"request_id": request_id_var, "tenant_id": tenant_id_var, "message_id": message_id_var}


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
