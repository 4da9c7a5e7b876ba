"""``python -m deploy.wait_for_schema``, the init container that holds a new version's pods until the migration Job
has brought the schema to their Alembic head (D18; deploy/kubernetes.py ordering)."""

from __future__ import annotations

import subprocess
import sys

from alembic.script import ScriptDirectory

from deploy.wait_for_schema import schema_state, wait
from scaisend.db import migrate
from scaisend.settings import Settings
from tests.deploy.tools import execute
from tests.harness.processes import ROOT, free_port, settings_env
from tests.harness.settings import make_settings


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy.wait_for_schema", *args],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestSchemaState:
    async def test_database_at_head_is_ready(self, database: Settings) -> None:
        state = await schema_state(database)
        assert state.ready
        assert state.current == state.heads

    async def test_never_migrated_database_is_not_ready(self, empty_database: Settings) -> None:
        state = await schema_state(empty_database)
        assert state.current == frozenset()
        assert not state.ready

    async def test_partly_migrated_database_is_not_ready(self, empty_database: Settings) -> None:
        script = ScriptDirectory.from_config(migrate.alembic_config(empty_database))
        first = script.get_base()
        assert first is not None
        migrate.upgrade(empty_database, first)
        state = await schema_state(empty_database)
        assert state.current == {first}
        assert state.current != state.heads
        assert not state.ready

    async def test_schema_newer_than_the_image_is_ready(self, empty_database: Settings) -> None:
        execute(
            empty_database,
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('9999_from_a_later_release')",
        )
        assert (await schema_state(empty_database)).ready


class TestWait:
    async def test_gives_up_after_the_timeout_then_succeeds_once_migrated(self, empty_database: Settings) -> None:
        assert await wait(empty_database, timeout=0.3, interval=0.1) is False
        migrate.upgrade(empty_database)
        assert await wait(empty_database, timeout=5, interval=0.1) is True

    async def test_unreachable_database_is_waited_for_not_raised(self) -> None:
        settings = make_settings(DATABASE_URL=f"mysql+aiomysql://root@127.0.0.1:{free_port()}/nowhere")
        assert await wait(settings, timeout=0.3, interval=0.1) is False


class TestCommand:
    def test_exits_0_at_head(self, database: Settings) -> None:
        result = _cli(database, "--timeout", "10")
        assert result.returncode == 0, result.stderr
        assert "schema is current" in result.stdout + result.stderr

    def test_exits_1_while_migrations_are_missing(self, empty_database: Settings) -> None:
        result = _cli(empty_database, "--timeout", "0.5", "--interval", "0.2")
        assert result.returncode == 1
        output = result.stdout + result.stderr
        assert "waiting for migrations" in output
        assert "is the scaisend-migrate Job done?" in output
