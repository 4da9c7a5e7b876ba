"""The database gate of a worker or SMTP process (issue 14 item 4, D61, docs/reliability.md).

While MariaDB is restarting or unreachable every job would fail, be retried after a few seconds and use up its
``max_tries`` (compose gives up after about 20 s of failures), so a 30 s outage would leave messages waiting for the
stale sweeps. The gate probes ``SELECT 1`` every :data:`PROBE_INTERVAL` seconds; when a probe fails it stops every arq
worker of the process from taking new jobs (running ones finish or fail and are retried by arq), then probes again
after 1, 2, 4 … up to :data:`BACKOFF_MAX` seconds, and lets the workers take jobs again at the first probe that
succeeds. Each change is logged once (``database unavailable; job pickup paused`` / ``database back; job pickup
resumed``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from arq.worker import Worker
from sqlalchemy.ext.asyncio import AsyncEngine

from scaisend.db.session import database_answers

logger = logging.getLogger(__name__)

PROBE_INTERVAL = 2.0
PROBE_TIMEOUT = 3.0
BACKOFF_MAX = 5.0


class DatabaseGate:
    def __init__(self, engine: AsyncEngine, workers: Sequence[Worker], *, interval: float = PROBE_INTERVAL) -> None:
        self.engine = engine
        self.workers = workers
        self.interval = interval
        self.paused_since: float | None = None

    @property
    def paused(self) -> bool:
        return self.paused_since is not None

    async def check(self) -> bool:
        """One probe; pause or resume the workers when the answer changed. Whether the database answered."""
        up = await database_answers(self.engine, PROBE_TIMEOUT)
        if not up and self.paused_since is None:
            self.paused_since = time.monotonic()
            self._allow(False)
            logger.warning("database unavailable; job pickup paused")
        elif up and self.paused_since is not None:
            down_for = time.monotonic() - self.paused_since
            self.paused_since = None
            self._allow(True)
            logger.warning("database back; job pickup resumed", extra={"paused_seconds": round(down_for, 1)})
        return up

    async def run(self) -> None:
        """Probe until cancelled."""
        backoff = 1.0
        while True:
            if await self.check():
                backoff = 1.0
                await asyncio.sleep(self.interval)
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    def _allow(self, allowed: bool) -> None:
        for worker in self.workers:
            worker.allow_pick_jobs = allowed
