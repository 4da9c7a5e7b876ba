"""The per-run MariaDB database, built by Alembic ``upgrade head`` (never ``create_all``) and dropped at the end.

Tests commit for real (workers use their own connections) and stay apart by creating their own tenants."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pymysql
import pytest
from sqlalchemy.engine import make_url

from scaisend.db import migrate
from scaisend.settings import Settings
from tests.harness.settings import make_settings


def _admin_connection(settings: Settings) -> pymysql.connections.Connection:  # type: ignore[type-arg]
    url = make_url(settings.DATABASE_URL)
    return pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", autocommit=True)


def create_database(settings: Settings) -> None:
    name = make_url(settings.DATABASE_URL).database
    with _admin_connection(settings) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def drop_database(settings: Settings) -> None:
    name = make_url(settings.DATABASE_URL).database
    with _admin_connection(settings) as conn, conn.cursor() as cur:
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
