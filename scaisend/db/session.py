"""Engines and session scopes. Sessions are owned by the edges (the request dependency, the job wrapper, the CLI):
they commit on success and roll back on error; services only flush."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool, PoolResetState

from scaisend.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_STATEMENTS = "scaisend_statements"  # connection record info: statements run on this connection so far
_COMMITTED_AT = "scaisend_committed_at"  # ... and how many had run when its last COMMIT succeeded


def _count_statement(conn: Any, *_args: Any) -> None:
    conn.info[_STATEMENTS] = conn.info.get(_STATEMENTS, 0) + 1


def _note_commit(conn: Any) -> None:
    conn.info[_COMMITTED_AT] = conn.info.get(_STATEMENTS, 0)


def _forget_commit(context: Any) -> None:
    if context.connection is not None:  # a failed COMMIT (or any error) proves nothing about the transaction
        context.connection.info.pop(_COMMITTED_AT, None)


def _reset_if_in_transaction(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    """The pool's reset of a connection coming back (``pool_reset_on_return=None`` hands it to this hook): a
    ``ROLLBACK`` unless nothing ran on the connection since its last successful ``COMMIT``. SQLAlchemy's default
    reset sends a ``ROLLBACK`` after every clean commit, a round trip that does nothing (one per unit of work,
    D81); a connection returned mid-transaction (an error, a rollback that failed) is still rolled back. The driver's
    own in-transaction flag cannot decide this: aiomysql does not refresh it after statements that return rows."""
    if not state.asyncio_safe or state.transaction_was_reset:
        return  # as SQLAlchemy's own reset: nothing to do, or no event loop to do it on (the pool discards it)
    info = record.info if record is not None else {}
    if info.get(_COMMITTED_AT, -1) == info.get(_STATEMENTS, 0):
        return
    dbapi_connection.rollback()


def create_engine(settings: Settings, *, pool: bool = True) -> AsyncEngine:
    """The process's engine. SQLite files get their folder created, WAL mode and foreign keys."""
    url = settings.DATABASE_URL
    kwargs: dict[str, Any] = {}
    if settings.is_sqlite:
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["poolclass"] = NullPool
    elif pool:
        kwargs.update(
            pool_size=settings.DATABASE_POOL_SIZE,
            max_overflow=settings.DATABASE_POOL_SIZE,
            pool_pre_ping=True,
            pool_recycle=3600,
            pool_timeout=settings.DATABASE_POOL_TIMEOUT,
            pool_reset_on_return=None,  # _reset_if_in_transaction does it
        )
    else:
        kwargs["poolclass"] = NullPool
    if not settings.is_sqlite:
        # a MariaDB that is restarting or unreachable fails the attempt in seconds instead of hanging the caller
        kwargs["connect_args"] = {"connect_timeout": settings.DATABASE_CONNECT_TIMEOUT}
    engine = create_async_engine(url, **kwargs)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    elif pool:
        event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
        event.listen(engine.sync_engine, "commit", _note_commit)
        event.listen(engine.sync_engine, "handle_error", _forget_commit)
        event.listen(engine.sync_engine, "reset", _reset_if_in_transaction)
    return engine


def session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block succeeds, roll back when it raises."""
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def database_answers(engine: AsyncEngine, timeout: float) -> bool:
    """Whether ``SELECT 1`` succeeds within ``timeout`` seconds: ``/ready`` and the workers' database gate."""
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError):
        return False
    return True
