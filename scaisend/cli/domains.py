"""``scaisend domains add|show|verify`` (docs/domains.md, docs/identity.md, docs/compose.md, D14): sender domains from the command line.

``add`` prints the DNS records to publish on stderr and the domain id as the last stdout line (``--json``: the whole
domain as JSON). ``show`` prints the domain and its records. ``verify`` checks DNS now through ``DNS_NAMESERVERS`` (or
the system resolver), stores the outcome, prints each failing record and exits 1 when the domain is not verified.

``verify --without-dns`` marks the domain verified without asking DNS, for a test domain on a non-production install
(running the production processes locally, docs/deploy.md): it is refused, exit 2, when ``ENVIRONMENT=production``
(the default), so a production install only ever sends from domains whose records were seen in DNS.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.cli.common import emit, run_in_session, settings_or_exit
from scaisend.clock import SystemClock
from scaisend.domains import service
from scaisend.domains.schemas import DomainOut, DomainVerification
from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from scaisend.tenants.service import get_tenant


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("domains", help="manage sender domains (DKIM, SPF, DMARC)")
    actions = parser.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="add a sender domain; prints the DNS records to publish and its id")
    add.add_argument("domain")
    add.add_argument("--tenant", required=True, help="tenant id")
    add.add_argument("--dmarc-policy", default="none", help="none (default), quarantine or reject")
    add.add_argument("--dmarc-rua", default=None, help="address for DMARC aggregate reports")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=_add)

    for name, func, text in (
        ("show", _show, "show a domain, its status and its DNS records"),
        ("verify", _verify, "check the DNS records now; exit 1 when not verified"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("domain", metavar="ID_OR_DOMAIN")
        action.add_argument("--tenant", required=True, help="tenant id")
        action.add_argument("--json", action="store_true")
        if name == "verify":
            action.add_argument(
                "--without-dns",
                action="store_true",
                help="mark the domain verified without checking DNS: for a test domain on a non-production install "
                "only (refused when ENVIRONMENT=production, the default)",
            )
        action.set_defaults(func=func)


def _print_records(data: dict[str, Any]) -> None:
    print("Publish these DNS records:", file=sys.stderr)
    for record in data["dns_records"]:
        state = "ok" if record["valid"] else "missing"
        print(f"  [{record['purpose']}, {state}] {record['host']} {record['type']} {record['value']}", file=sys.stderr)


def _add(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        await get_tenant(session, args.tenant)
        row = await service.add_domain(
            session, settings, args.tenant, args.domain, dmarc_policy=args.dmarc_policy, dmarc_rua_email=args.dmarc_rua
        )
        return DomainOut.build(row, await service.domain_keys(session, row), settings).model_dump(mode="json")

    data = run_in_session(settings, work)
    if not args.json:
        _print_records(data)
    emit(data, data["id"], args.json)


def _show(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> dict[str, Any]:
        row = await service.find_domain(session, args.tenant, args.domain)
        return DomainOut.build(row, await service.domain_keys(session, row), settings).model_dump(mode="json")

    data = run_in_session(settings, work)
    if not args.json:
        _print_records(data)
    emit(data, data["id"], args.json)


def _verify(args: argparse.Namespace) -> None:
    settings = settings_or_exit()
    if args.without_dns:
        _verify_without_dns(args, settings)
        return

    async def work(session: AsyncSession) -> dict[str, Any]:
        row = await service.find_domain(session, args.tenant, args.domain)
        report = await service.verify_domain(session, settings, make_resolver(settings), row, SystemClock().now())
        keys = await service.domain_keys(session, row)
        return DomainVerification.from_report(row, keys, settings, report).model_dump(mode="json")

    data = run_in_session(settings, work)
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        for error in data["errors"]:
            print(f"error: {error['message']}")
        print(f"{data['domain']}: {'verified' if data['verified'] else 'not verified'}")
    if not data["verified"]:
        raise SystemExit(1)


def _verify_without_dns(args: argparse.Namespace, settings: Settings) -> None:
    if settings.ENVIRONMENT == "production":
        print(
            "scaisend: --without-dns is refused when ENVIRONMENT=production: publish the records and run "
            "`scaisend domains verify` without it (set ENVIRONMENT=development only on a test install)",
            file=sys.stderr,
        )
        raise SystemExit(2)

    async def work(session: AsyncSession) -> dict[str, Any]:
        row = await service.find_domain(session, args.tenant, args.domain)
        await service.mark_verified(session, row)
        return DomainOut.build(row, await service.domain_keys(session, row), settings).model_dump(mode="json")

    data = run_in_session(settings, work)
    print(
        f"scaisend: {data['domain']} marked verified WITHOUT a DNS check (ENVIRONMENT={settings.ENVIRONMENT})",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(f"{data['domain']}: verified")
