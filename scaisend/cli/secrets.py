"""``scaisend secrets reencrypt [--json]``: after a ``SECRET_KEY`` rotation, every stored encrypted value (DKIM
private keys, webhook signing and OAuth client secrets, the Event Webhook key, sign-in refresh tokens) re-encrypted
under the current key (D71). Prints one row per column; exits 1 when a value is readable by none of the keys."""

from __future__ import annotations

import argparse
import asyncio
import sys

from scaisend.cli.common import print_table, settings_or_exit
from scaisend.db.session import create_engine, session_maker
from scaisend.secret_rotation import ColumnReport, reencrypt_stored_secrets


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("secrets", help="values stored encrypted under SECRET_KEY")
    actions = parser.add_subparsers(dest="action", required=True)
    again = actions.add_parser(
        "reencrypt",
        help="re-encrypt every stored secret under SECRET_KEY (run after moving the old key to SECRET_KEY_PREVIOUS)",
    )
    again.add_argument("--json", action="store_true")
    again.set_defaults(func=_reencrypt)


def _reencrypt(args: argparse.Namespace) -> None:
    settings = settings_or_exit()

    async def run() -> list[ColumnReport]:
        engine = create_engine(settings, pool=False)
        try:
            return await reencrypt_stored_secrets(session_maker(engine), settings.secret_keys)
        finally:
            await engine.dispose()

    reports = asyncio.run(run())
    print_table([r.as_row() for r in reports], ["column", "current", "reencrypted", "unreadable"], args.json)
    unreadable = sum(r.unreadable for r in reports)
    if unreadable:
        print(
            f"scaisend: {unreadable} stored value(s) cannot be decrypted with SECRET_KEY or SECRET_KEY_PREVIOUS; "
            "add the key they were written with to SECRET_KEY_PREVIOUS and run again",
            file=sys.stderr,
        )
        raise SystemExit(1)
