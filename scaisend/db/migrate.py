"""Apply Alembic migrations (the only way the schema is made, D18). Used by ``scaisend migrate``, ``scaisend dev``
and the test harness.

:func:`current_heads` reads the revision a database is at; it is also the connection probe ``scaisend migrate`` runs
first, and :func:`unreachable` turns a failed connection into one clear line and a distinct exit code (issue 16: a
missing database printed a 199-line traceback)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url

from scaisend.db.session import create_engine
from scaisend.settings import Settings

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = "scaisend_migrate"  # MySQL named lock held while migrations run (migrations/env.py)
LOCK_WAIT_SECONDS = 600


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["settings"] = settings
    return cfg


def _in_thread(fn: Callable[..., T], *args: object) -> T:
    """Alembic's env.py runs its own event loop; when called from async code, run it on a fresh thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(fn(*args))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def upgrade(settings: Settings, revision: str = "head") -> None:
    _in_thread(command.upgrade, alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str = "base") -> None:
    _in_thread(command.downgrade, alembic_config(settings), revision)


def current(settings: Settings) -> None:
    _in_thread(command.current, alembic_config(settings))


def head_revision() -> str:
    """The newest revision the code ships."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def current_heads(settings: Settings) -> tuple[str, ...]:
    """The revision(s) the database is at (empty for a database without ScaiSend's schema). Raises SQLAlchemy's
    ``OperationalError``/``InterfaceError`` when it cannot connect (see :func:`unreachable`)."""

    def heads(connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    async def read() -> tuple[str, ...]:
        engine = create_engine(settings, pool=False)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(heads)
        finally:
            await engine.dispose()

    return _in_thread(asyncio.run, read())


# --- a database that cannot be used, in one line --------------------------------------------------------------------
EXIT_FAILED: Final = 1  # the migration itself failed (its error is printed)
EXIT_NO_DATABASE: Final = 3  # the server answers but the database does not exist (or the SQLite file cannot be made)
EXIT_ACCESS_DENIED: Final = 4  # bad user or password, or no rights on the database
EXIT_UNREACHABLE: Final = 5  # no server at that address (refused, unknown host, timeout)

_NO_DATABASE_CODES: Final = {1049}  # ER_BAD_DB_ERROR
_ACCESS_DENIED_CODES: Final = {1044, 1045, 1698}  # ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, no password
_UNREACHABLE_CODES: Final = {2003, 2005, 2006, 2013}  # can't connect, unknown host, gone away, lost during connect


@dataclass(frozen=True)
class Unusable:
    """Why the configured database cannot be used: one line for the operator and the command's exit code."""

    message: str
    exit_code: int


def _where(settings: Settings) -> tuple[str, str, str]:
    url = make_url(settings.DATABASE_URL)
    return f"{url.host or '127.0.0.1'}:{url.port or 3306}", url.database or "", url.username or ""


def unreachable(settings: Settings, error: BaseException) -> Unusable | None:
    """A connection failure as an :class:`Unusable`; ``None`` when ``error`` is something else."""
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    orig = error.orig
    code = orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    reason = str(orig.args[1] if orig is not None and len(orig.args) > 1 else orig or error).strip()
    if settings.is_sqlite:
        path = make_url(settings.DATABASE_URL).database or ""
        return Unusable(f"cannot open the SQLite database {path!r}: {reason}", EXIT_NO_DATABASE)
    address, database, user = _where(settings)
    if code in _NO_DATABASE_CODES:
        return Unusable(
            f"database {database!r} does not exist on {address}; create it "
            f"(CREATE DATABASE `{database}` CHARACTER SET utf8mb4) or fix DATABASE_URL",
            EXIT_NO_DATABASE,
        )
    if code in _ACCESS_DENIED_CODES:
        return Unusable(
            f"access denied for user {user!r} on {address} (check the user and password in DATABASE_URL, and "
            f"the user's rights on {database!r}): {reason}",
            EXIT_ACCESS_DENIED,
        )
    if code in _UNREACHABLE_CODES or code is None:
        return Unusable(f"cannot reach the database server at {address}: {reason}", EXIT_UNREACHABLE)
    return Unusable(f"cannot use the database {database!r} on {address}: {reason}", EXIT_FAILED)
