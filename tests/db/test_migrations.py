"""Alembic is the only way the schema is made (D18): upgrade builds every table on an empty MariaDB database and
on SQLite, the result matches the models exactly, and downgrade to base removes it all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from scaisend.db import migrate
from scaisend.models import Base
from scaisend.settings import Settings
from tests.harness.database import scratch_database
from tests.harness.settings import make_settings


def sync_engine(settings: Settings) -> Engine:
    url = make_url(settings.DATABASE_URL)
    url = url.set(drivername="mysql+pymysql" if url.drivername.startswith("mysql") else "sqlite")
    return create_engine(url)


@pytest.fixture(params=["mariadb", "sqlite"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield make_settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/migrate.db")
        return
    with scratch_database(make_settings(), "mig") as settings:
        yield settings


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_database: Settings) -> None:
    migrate.upgrade(empty_database)
    engine = sync_engine(empty_database)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
            assert tables == set(Base.metadata.tables)
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert diff == [], f"models and migrations disagree: {diff}"
            message_indexes = {ix["name"] for ix in inspect(connection).get_indexes("messages")}
            assert "ix_messages_tenant_created" in message_indexes
            if connection.dialect.name == "mysql":
                partitions = connection.execute(
                    text(
                        "SELECT COUNT(*) FROM information_schema.partitions WHERE table_schema = DATABASE() "
                        "AND table_name = 'email_events' AND partition_name IS NOT NULL"
                    )
                ).scalar_one()
                assert partitions >= 2
        migrate.downgrade(empty_database, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
