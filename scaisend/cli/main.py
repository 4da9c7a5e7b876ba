"""``scaisend``: parse the command line and hand over to the command group's module."""

from __future__ import annotations

import argparse
import sys

from scaisend import __version__
from scaisend.cli import dev, domains, keys, migrate, partitions, partners, queues, secrets, services, tenants, users
from scaisend.errors import ScaiSendError

GROUPS = (services, migrate, partitions, queues, partners, tenants, users, keys, secrets, domains, dev)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scaisend", description="ScaiSend: SendGrid-compatible mail platform")
    parser.add_argument("--version", action="version", version=f"scaisend {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        args.func(args)
    except ScaiSendError as exc:
        print(f"scaisend: {exc.detail}", file=sys.stderr)
        raise SystemExit(1) from None
