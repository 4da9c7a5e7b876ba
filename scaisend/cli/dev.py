"""``scaisend dev``: the whole product on this machine with nothing else installed (D16); see
:mod:`scaisend.dev.embedded`. Prints ``API:``, ``API key:``, ``Sender:`` and ``Mailbox:`` lines on stdout once the
API is ready; Ctrl-C stops everything."""

from __future__ import annotations

import argparse
from pathlib import Path

from scaisend.dev.embedded import DEFAULT_DATA_DIR, DevOptions, run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = DevOptions()
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
        default=DEFAULT_DATA_DIR,
        help="working folder: database, demo.json, mail, logs, redis (default: ./.scaisend)",
    )
    parser.add_argument("--host", default=defaults.host, help="address the API binds to (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=defaults.port, help="API port (default: 8000)")
    parser.add_argument(
        "--smtp-port", type=int, default=defaults.smtp_port, help="inbound DSN/FBL SMTP port (default: 2525)"
    )
    parser.add_argument("--mx-port", type=int, default=defaults.mx_port, help="capture MX port (default: 2526)")
    parser.add_argument(
        "--worker-metrics-port",
        type=int,
        default=defaults.worker_metrics_port,
        help="worker /metrics port (default: 9101)",
    )
    parser.add_argument(
        "--smtp-metrics-port",
        type=int,
        default=defaults.smtp_metrics_port,
        help="SMTP service /metrics port (default: 9102)",
    )
    parser.add_argument(
        "--exporter-port", type=int, default=defaults.exporter_port, help="exporter port (default: 9103)"
    )
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
        default=defaults.ready_timeout,
        help="seconds to wait for each service to answer (default: 30)",
    )
    parser.set_defaults(func=_dev)


def options_from_args(args: argparse.Namespace) -> DevOptions:
    worker, smtp, exporter = args.worker_metrics_port, args.smtp_metrics_port, args.exporter_port
    if args.metrics_base_port is not None:
        worker, smtp, exporter = (args.metrics_base_port + i for i in range(3))
    return DevOptions(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        smtp_port=args.smtp_port,
        mx_port=args.mx_port,
        worker_metrics_port=worker,
        smtp_metrics_port=smtp,
        exporter_port=exporter,
        redis_port=args.redis_port,
        with_monitoring=args.with_monitoring,
        ready_timeout=args.ready_timeout,
    )


def _dev(args: argparse.Namespace) -> None:
    raise SystemExit(run(options_from_args(args)))
