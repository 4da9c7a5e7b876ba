"""The long-running services: ``serve`` (API), ``worker``, ``smtp`` and ``exporter``."""

from __future__ import annotations

import argparse
import importlib
import os
import tempfile

import uvicorn

from scaisend import metrics
from scaisend.cli.common import settings_or_exit
from scaisend.logs import configure_logging


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the HTTP API (port 8000)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=_serve)
    for name, help_text in (
        ("worker", "run the worker: email:process, webhook:deliver, stats (metrics on 9101)"),
        ("smtp", "run the SMTP service: smtp:deliver and the inbound DSN/FBL listener (metrics on 9102)"),
        ("exporter", "run the Prometheus exporter for daily_stats and queue depths (port 9103)"),
    ):
        parser = sub.add_parser(name, help=help_text)
        parser.set_defaults(func=_service(name))


def _multiprocess_metrics(settings_dir: str) -> None:
    """Several uvicorn workers share their metrics through files (prometheus-client multiprocess mode): wipe the
    folder and export it before the workers start, since prometheus-client reads the variable at import."""
    directory = settings_dir or tempfile.mkdtemp(prefix="scaisend-metrics-")
    metrics.reset_multiproc_dir(directory)
    os.putenv("PROMETHEUS_MULTIPROC_DIR", directory)


def _serve(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    configure_logging("api", settings.LOG_LEVEL)
    workers = args.workers or settings.API_WORKERS
    if workers > 1:
        _multiprocess_metrics(settings.PROMETHEUS_MULTIPROC_DIR)
    uvicorn.run(
        "scaisend.api.asgi:app_factory",
        factory=True,
        host=args.host or settings.API_HOST,
        port=args.port or settings.API_PORT,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds),
    )


_SERVICE_ENTRYPOINTS = {
    "worker": "scaisend.workers.email:run",
    "smtp": "scaisend.workers.smtp:run",
    "exporter": "exporter.main:run",
}


def _service(name: str):  # type: ignore[no-untyped-def]
    def run(_args: argparse.Namespace) -> None:
        settings = settings_or_exit()
        configure_logging(name, settings.LOG_LEVEL)
        module_name, _, func = _SERVICE_ENTRYPOINTS[name].partition(":")
        getattr(importlib.import_module(module_name), func)(settings)

    return run
