"""``python -m deploy.wait_for_schema [--timeout S] [--interval S]``: exit 0 once the database schema is at this
image's Alembic head (D18: migrations are the only way the schema is made).

The Kubernetes Deployments run it as an init container (``deploy/kubernetes.py``), so a new version's pods wait for
the ``scaisend-migrate`` Job instead of running against an old schema. A database at a revision this image does not
know is *newer* than the image (a rollback, or an old pod restarting after the migration): that counts as ready, since
migrations keep the previous release working. Exit 1 after ``--timeout`` seconds; Kubernetes then restarts the init
container with back-off and the pod shows ``Init:CrashLoopBackOff``, which is the signal to look at the Job.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from scaisend.db.migrate import alembic_config
from scaisend.db.session import create_engine
from scaisend.logs import configure_logging
from scaisend.settings import Settings, SettingsError, load_settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchemaState:
    current: frozenset[str]  # revisions in alembic_version (empty: never migrated)
    heads: frozenset[str]  # this image's heads
    known: frozenset[str]  # every revision this image ships

    @property
    def ready(self) -> bool:
        if not self.current:
            return False
        return self.current == self.heads or not self.current <= self.known


def _current_heads(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def schema_state(settings: Settings) -> SchemaState:
    """Read the database's revision and compare it with the migrations shipped in this package."""
    script = ScriptDirectory.from_config(alembic_config(settings))
    engine = create_engine(settings, pool=False)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_heads)
    finally:
        await engine.dispose()
    return SchemaState(
        current=current,
        heads=frozenset(script.get_heads()),
        known=frozenset(revision.revision for revision in script.walk_revisions()),
    )


async def wait(settings: Settings, *, timeout: float, interval: float) -> bool:
    """True once the schema is ready; False when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = await schema_state(settings)
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("database not reachable", extra={"error": str(exc).splitlines()[0]})
        else:
            if state.ready:
                logger.info("schema is current", extra={"revision": sorted(state.current)})
                return True
            logger.info(
                "waiting for migrations", extra={"revision": sorted(state.current), "expected": sorted(state.heads)}
            )
        if time.monotonic() + interval > deadline:
            return False
        await asyncio.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds (600)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks (2)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"wait_for_schema: {exc}") from None
    configure_logging("migrate", settings.LOG_LEVEL)
    if not asyncio.run(wait(settings, timeout=args.timeout, interval=args.interval)):
        logger.error("schema not current in time; is the scaisend-migrate Job done?", extra={"timeout": args.timeout})
        raise SystemExit(1)


if __name__ == "__main__":
    main()
