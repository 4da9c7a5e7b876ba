"""Apply Alembic migrations (the only way the schema is made, D18). Used by ``scaisend migrate``, ``scaisend dev``
and the test harness."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

from scaisend.settings import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = "scaisend_migrate"  # MySQL named lock held while migrations run (migrations/env.py)
LOCK_WAIT_SECONDS = 600


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["settings"] = settings
    return cfg


def _in_thread(fn: object, *args: object) -> None:
    """Alembic's env.py runs its own event loop; when called from async code, run it on a fresh thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)  # type: ignore[operator]
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn(*args)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(settings: Settings, revision: str = "head") -> None:
    _in_thread(command.upgrade, alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    _in_thread(command.downgrade, alembic_config(settings), revision)


def current(settings: Settings) -> None:
    _in_thread(command.current, alembic_config(settings))
