"""``scaisend migrate`` on MySQL waits for the named migration lock: while another session holds it, the real
process waits in GET_LOCK without touching the schema; once released it migrates and exits 0."""

from __future__ import annotations

import subprocess
import time

import pytest
from sqlalchemy.engine import make_url

from scaisend.db.migrate import MIGRATION_LOCK
from scaisend.settings import Settings
from tests.harness.database import connect
from tests.harness.processes import ROOT, SCAISEND, settings_env


@pytest.mark.timeout(120)
def test_a_second_migration_waits_for_the_lock(empty_database: Settings) -> None:
    name = make_url(empty_database.DATABASE_URL).database
    holder = connect(empty_database)  # to the server: the lock is server-wide
    with holder, holder.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 0)", (MIGRATION_LOCK,))
        assert cur.fetchone() == (1,)
        proc = subprocess.Popen(
            [*SCAISEND, "migrate"],
            env=settings_env(empty_database),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            waiting = False
            while time.monotonic() < deadline and not waiting and proc.poll() is None:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE %s AND ID <> CONNECTION_ID()",
                    ("SELECT GET_LOCK(%",),
                )
                waiting = cur.fetchone()[0] >= 1
                time.sleep(0.2)
            assert waiting, "scaisend migrate never waited in GET_LOCK"
            assert proc.poll() is None
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (name,))
            assert cur.fetchone() == (0,), "it touched the schema while another session held the lock"
            cur.execute("SELECT RELEASE_LOCK(%s)", (MIGRATION_LOCK,))
            out, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert out.startswith("upgraded from an empty database to ")
    check = connect(empty_database, to_database=True)
    with check, check.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM alembic_version")
        assert cur.fetchone() == (1,)
