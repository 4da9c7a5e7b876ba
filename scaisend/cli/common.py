"""Shared CLI plumbing: settings from the environment (a bad one exits 2 naming it; a running ``scaisend dev`` in
this folder is used when the environment names no database or Redis, see :mod:`scaisend.dev_env`), a one-shot unit
of work, and the output rule: a command that creates something prints its id or key as the last line (``--json``
prints the whole object instead)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from scaisend import dev_env
from scaisend.db.session import create_engine, session_maker, unit_of_work
from scaisend.settings import Settings, SettingsError, load_settings, require_secret_keys

T = TypeVar("T")


def settings_or_exit() -> Settings:
    """The settings every command runs with; exits 2 naming a bad setting or a guessable ``SECRET_KEY``."""
    try:
        settings = _settings()
        require_secret_keys(settings)
        return settings
    except SettingsError as exc:
        print(f"scaisend: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _settings() -> Settings:
    settings = load_settings()
    if dev_env.connection_configured(settings):
        return settings
    found = dev_env.running_stack(Path.cwd())
    if found is None:
        return settings
    path, values = found
    print(
        f"scaisend: using the scaisend dev stack running here ({path}); "
        "set DATABASE_URL and REDIS_URL to use another database and Redis",
        file=sys.stderr,
    )
    return load_settings(**values)


def run_in_session(settings: Settings, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def runner() -> T:
        engine = create_engine(settings, pool=False)
        try:
            async with unit_of_work(session_maker(engine)) as session:
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def emit(obj: dict[str, Any], last_line: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps(obj, indent=2, default=str, sort_keys=True))
    else:
        for key, value in obj.items():
            if isinstance(value, str | int | bool) or value is None:
                print(f"{key}: {value}", file=sys.stderr)
        print(last_line)


def print_table(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    """Rows as aligned columns on stdout (``--json``: the rows as a JSON array)."""
    if as_json:
        print(json.dumps(rows, indent=2, default=str, sort_keys=True))
        return
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
