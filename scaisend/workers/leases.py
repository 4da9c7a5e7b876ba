"""Job leases: a job whose process died is taken up again within seconds (issue 14 item 1, D64,
docs/reliability.md).

arq marks a running job with an in-progress key that lives for the job's timeout plus 10 s; the job stays in its queue
and no other worker takes it while the key exists. When the process running it dies (``kill -9``, OOM, a lost node)
the job therefore waits up to 910 s for a delivery and 310 s for a compose. Leases make a dead process visible
sooner:

- every worker and SMTP process writes a heartbeat key (``<prefix>scaisend:alive:<owner>``, :data:`HEARTBEAT_TTL`)
  every :data:`BEAT_EVERY` seconds;
- each job records its owner in one hash (``<prefix>scaisend:running``: job id → owner) when it starts and removes
  it when it ends;
- every :data:`BEAT_EVERY` seconds, and once at start-up, each process looks at the hash: an entry whose owner has no
  heartbeat belongs to a dead process, so its in-progress key is deleted and the job, still in its queue, is taken
  by the next worker that polls (arq counts it as another try); an entry without an in-progress key is a job that
  ended without its hook (the process died right after) and is dropped.

A process killed between arq's marking a job in progress and the job's start hook leaves an in-progress key with no
owner in the hash (seen in the fault suite: a compose job stuck for arq's 310 s). Every :data:`ORPHAN_EVERY` seconds
each process therefore looks at the due jobs of the queues it serves: one in progress with no owner, seen so on two
looks in a row, is an orphan and is freed like a dead owner's job.

A job whose owner died is thus taken again at most :data:`HEARTBEAT_TTL` + :data:`BEAT_EVERY` seconds after the death
(an orphan within 2 × :data:`ORPHAN_EVERY`).
Jobs are idempotent (D21): a compose re-run finds its message's status; a delivery re-run takes what was already sent
from the hand-off journal.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BEAT_EVERY = 3.0
HEARTBEAT_TTL = 30.0  # long enough that a live process whose loop is busy for a while is not taken for dead
# An in-progress key written again after Redis lost it: the longest job timeout (a delivery, 900 s) + arq's 10 s. If
# this process dies meanwhile, recover() deletes the key as for any dead owner.
REASSERTED_IN_PROGRESS_MS = 910_000
ORPHAN_EVERY = 15.0  # seconds between two looks for in-progress jobs that no process owns
ORPHAN_SCAN_LIMIT = 2000  # due jobs looked at per queue and look


class JobLeases:
    def __init__(
        self, redis: ArqRedis, prefix: str, *, beat_every: float = BEAT_EVERY, queue_keys: Sequence[str] = ()
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.beat_every = beat_every
        self.queue_keys = tuple(queue_keys)
        self.unowned: set[str] = set()  # in progress without an owner at the last look
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.running_key = f"{prefix}scaisend:running"
        self.local: set[str] = set()  # the ids of the jobs this process runs now

    def alive_key(self, owner: str) -> str:
        return f"{self.prefix}scaisend:alive:{owner}"

    async def beat(self) -> None:
        await self.redis.set(self.alive_key(self.owner), b"1", px=int(HEARTBEAT_TTL * 1000))

    async def on_job_start(self, ctx: dict[str, Any]) -> None:
        self.local.add(ctx["job_id"])
        await self.redis.hset(self.running_key, ctx["job_id"], self.owner)  # type: ignore[misc]

    async def on_job_end(self, ctx: dict[str, Any]) -> None:
        self.local.discard(ctx["job_id"])
        await self.redis.hdel(self.running_key, ctx["job_id"])  # type: ignore[misc]

    async def reassert(self) -> int:
        """Write this process's heartbeat, running entries and in-progress keys again after Redis lost them (a flush,
        a new instance): a job that is still running here is then not taken by another process when the rebuilt
        queue holds it again. arq's end of the job deletes the in-progress key as usual. How many were written."""
        jobs = sorted(self.local)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.alive_key(self.owner), b"1", px=int(HEARTBEAT_TTL * 1000))
            for job_id in jobs:
                pipe.hset(self.running_key, job_id, self.owner)
                pipe.set(in_progress_key_prefix + job_id, b"1", px=REASSERTED_IN_PROGRESS_MS, nx=True)
            await pipe.execute()
        return len(jobs)

    async def recover(self) -> list[str]:
        """Free the jobs of dead owners; the ids of the jobs freed."""
        running: dict[bytes, bytes] = await self.redis.hgetall(self.running_key)  # type: ignore[misc]
        alive: dict[bytes, bool] = {}
        freed: list[str] = []
        for raw_job, raw_owner in running.items():
            job_id = raw_job.decode()
            if not await self.redis.exists(in_progress_key_prefix + job_id):
                await self.redis.hdel(self.running_key, job_id)  # type: ignore[misc]
                continue
            if raw_owner not in alive:
                alive[raw_owner] = bool(await self.redis.exists(self.alive_key(raw_owner.decode())))
            if alive[raw_owner]:
                continue
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(in_progress_key_prefix + job_id)
                pipe.hdel(self.running_key, job_id)
                await pipe.execute()
            freed.append(job_id)
        if freed:
            logger.warning("took back the jobs of a process that died", extra={"jobs": freed[:20], "count": len(freed)})
        return freed

    async def free_orphans(self) -> list[str]:
        """Free the due jobs of this process's queues that are in progress with no owner on two looks in a row (their
        process died between arq's in-progress mark and the start hook); the ids freed."""
        now_ms = int(time.time() * 1000)
        due: list[str] = []
        for key in self.queue_keys:
            members = await self.redis.zrangebyscore(key, "-inf", now_ms, start=0, num=ORPHAN_SCAN_LIMIT)
            due += [m.decode() if isinstance(m, bytes) else str(m) for m in members]
        if not due:
            self.unowned = set()
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in due:
                pipe.exists(in_progress_key_prefix + job_id)
                pipe.hexists(self.running_key, job_id)
            answers = await pipe.execute()
        unowned = {
            job_id
            for job_id, i in zip(due, range(0, len(answers), 2), strict=True)
            if answers[i] and not answers[i + 1]
        }
        orphans = sorted(unowned & self.unowned)
        self.unowned = unowned - set(orphans)
        if orphans:
            await self.redis.delete(*(in_progress_key_prefix + job_id for job_id in orphans))
            logger.warning("freed jobs that no process owns", extra={"jobs": orphans[:20], "count": len(orphans)})
        return orphans

    async def run(self) -> None:
        """Heartbeat and recover until cancelled; a Redis error is logged and tried again at the next beat."""
        looked = time.monotonic()
        while True:
            try:
                await self.beat()
                await self.recover()
                if self.queue_keys and time.monotonic() - looked >= ORPHAN_EVERY:
                    looked = time.monotonic()
                    await self.free_orphans()
            except (RedisError, OSError) as exc:
                logger.warning("job leases: Redis unavailable", extra={"error": repr(exc)})
            await asyncio.sleep(self.beat_every)

    async def close(self) -> None:
        """A clean stop: no heartbeat left behind (the jobs were finished or handed back)."""
        await self.redis.delete(self.alive_key(self.owner))
