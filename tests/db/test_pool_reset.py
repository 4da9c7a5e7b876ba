"""The pool's reset of a returned connection (D81): no ``ROLLBACK`` after a clean commit, a ``ROLLBACK`` for a
connection that comes back with its transaction still open. Counted by the server (``Com_rollback`` of the one
pooled connection), not timed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolResetState

from scaisend.db.session import _reset_if_in_transaction, create_engine, session_maker, unit_of_work
from scaisend.settings import Settings


@pytest.fixture
async def engine(database: Settings) -> AsyncIterator[AsyncEngine]:
    one = create_engine(database.model_copy(update={"DATABASE_POOL_SIZE": 1}))
    one.pool._max_overflow = 0  # type: ignore[attr-defined]  # one connection, so every block below reuses it
    yield one
    await one.dispose()


async def rollbacks(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SHOW SESSION STATUS LIKE 'Com_rollback'"))).one()
        await conn.commit()
    return int(row[1])


async def test_no_rollback_after_a_clean_commit(engine: AsyncEngine) -> None:
    maker = session_maker(engine)
    before = await rollbacks(engine)
    for _ in range(3):
        async with unit_of_work(maker) as session:
            await session.execute(text("SELECT COUNT(*) FROM tenants FOR UPDATE"))
    assert await rollbacks(engine) == before


async def test_a_connection_returned_mid_transaction_is_rolled_back(engine: AsyncEngine) -> None:
    before = await rollbacks(engine)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT COUNT(*) FROM tenants FOR UPDATE"))  # after the last commit: a transaction

        def returned(sync_conn: Connection) -> None:  # what the pool runs when a connection comes back unreset
            fairy = sync_conn.connection
            state = PoolResetState(transaction_was_reset=False, terminate_only=False, asyncio_safe=True)
            _reset_if_in_transaction(fairy.dbapi_connection, fairy._connection_record, state)

        await conn.run_sync(returned)
        await conn.commit()
    assert await rollbacks(engine) == before + 1
