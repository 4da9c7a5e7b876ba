"""Alembic environment: runs migrations on the async engine built from ScaiSend's settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from scaisend.db.session import create_engine
from scaisend.models import Base
from scaisend.settings import Settings

config = context.config
target_metadata = Base.metadata


def _do_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
