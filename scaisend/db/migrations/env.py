"""Alembic environment: runs migrations on the async engine built from ScaiSend's settings."""

from __future__ import annotations

import asyncio
import contextlib

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from scaisend.db.migrate import LOCK_WAIT_SECONDS, MIGRATION_LOCK
from scaisend.db.session import create_engine
from scaisend.models import Base
from scaisend.settings import Settings

config = context.config
target_metadata = Base.metadata


def _do_run(connection: Connection) -> None:
    """Run the migrations; on MySQL under a named lock, so two ``scaisend migrate`` started together (two deploy
    jobs, an operator and a job) run one after the other instead of racing through the same DDL."""
    locked = connection.dialect.name == "mysql"
    if locked:
        got = connection.execute(
            text("SELECT GET_LOCK(:name, :wait)"), {"name": MIGRATION_LOCK, "wait": LOCK_WAIT_SECONDS}
        ).scalar()
        if got != 1:
            raise RuntimeError(f"another migration held the {MIGRATION_LOCK!r} lock for {LOCK_WAIT_SECONDS}s")
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if locked:
            with contextlib.suppress(Exception):  # a lost connection releases it anyway; keep the migration's error
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK})


async def _run_online(settings: Settings) -> None:
    engine = create_engine(settings, pool=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_do_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    settings: Settings = config.attributes["settings"]
    connection = config.attributes.get("connection")
    if connection is not None:
        _do_run(connection)
        return
    asyncio.run(_run_online(settings))


run()
