"""The per-run MariaDB database, built by Alembic ``upgrade head`` (never ``create_all``) and dropped at the end.

Tests commit for real (workers use their own connections) and stay apart by creating their own tenants."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pymysql
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db import migrate
from scaisend.db.session import create_engine, session_maker
from scaisend.settings import Settings
from tests.harness.settings import make_settings


def connect(settings: Settings, *, to_database: bool = False) -> pymysql.connections.Connection:  # type: ignore[type-arg]
    """A plain autocommit PyMySQL connection to the settings' MariaDB server (to its database with
    ``to_database``), for what tests do beside the code under test: make and drop databases, hold a lock, read."""
    url = make_url(settings.DATABASE_URL)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=url.database if to_database else None,
        autocommit=True,
    )


def create_database(settings: Settings) -> None:
    name = make_url(settings.DATABASE_URL).database
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def drop_database(settings: Settings) -> None:
    name = make_url(settings.DATABASE_URL).database
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    create_database(settings)
    migrate.upgrade(settings)
    yield settings
    drop_database(settings)


@contextmanager
def scratch_database(base: Settings, suffix: str) -> Iterator[Settings]:
    """``base`` pointed at an empty database of its own beside the run's (``<run database>_<suffix>``), dropped
    afterwards."""
    url = make_url(base.DATABASE_URL)
    settings = base.model_copy(
        update={"DATABASE_URL": url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)}
    )
    create_database(settings)
    try:
        yield settings
    finally:
        drop_database(settings)


@pytest.fixture
def empty_database(database: Settings) -> Iterator[Settings]:
    """A MariaDB database of its own with no schema (the per-run one is already at head)."""
    with scratch_database(database, uuid.uuid4().hex[:8]) as settings:
        yield settings


@dataclass
class OwnDatabase:
    settings: Settings
    maker: async_sessionmaker[AsyncSession]


@pytest.fixture
async def own_database(database: Settings) -> AsyncIterator[OwnDatabase]:
    """A migrated database for one test alone, for the tests that run the real worker and SMTP processes: their
    cron sweeps span every tenant, and in the run's shared database they would pick up what other tests left
    behind (queued messages, pending webhook deliveries) and spend the test's time on it."""
    with scratch_database(database, uuid.uuid4().hex[:8]) as settings:
        await asyncio.to_thread(migrate.upgrade, settings)
        engine = create_engine(settings)
        try:
            yield OwnDatabase(settings, session_maker(engine))
        finally:
            await engine.dispose()
