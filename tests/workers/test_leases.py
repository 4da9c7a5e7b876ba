"""Job leases (D64) on the real Redis: the jobs of an owner without a heartbeat are freed (their in-progress key goes,
so arq's next poll takes them), a live owner's are left alone, and entries of finished jobs are dropped."""

from __future__ import annotations

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix

from scaisend.settings import Settings
from scaisend.workers.leases import JobLeases


async def test_a_dead_owners_job_is_freed_and_a_live_owners_is_not(own_prefix: Settings, pool: ArqRedis) -> None:
    dead = JobLeases(pool, own_prefix.REDIS_QUEUE_PREFIX)
    live = JobLeases(pool, own_prefix.REDIS_QUEUE_PREFIX)
    jobs = {name: f"{own_prefix.REDIS_QUEUE_PREFIX}{name}" for name in ("dead-job", "live-job", "finished-job")}
    try:
        await live.beat()  # the dead owner never beat (or its heartbeat expired)
        for name, owner in (("dead-job", dead), ("live-job", live), ("finished-job", live)):
            await owner.on_job_start({"job_id": jobs[name]})
        for name in ("dead-job", "live-job"):
            await pool.set(in_progress_key_prefix + jobs[name], b"1", px=900_000)

        assert await live.recover() == [jobs["dead-job"]]

        assert not await pool.exists(in_progress_key_prefix + jobs["dead-job"])
        assert await pool.exists(in_progress_key_prefix + jobs["live-job"])
        assert set(await pool.hkeys(live.running_key)) == {jobs["live-job"].encode()}  # finished entry dropped
        assert await live.recover() == []
    finally:
        await live.close()
        for job in jobs.values():
            await pool.delete(in_progress_key_prefix + job)


async def test_an_in_progress_job_nobody_owns_is_freed_on_the_second_look(own_prefix: Settings, pool: ArqRedis) -> None:
    """A process killed between arq's in-progress mark and the start hook left a job nobody would free before arq's
    timeout (the fault suite found a compose job stuck so)."""
    queue = f"{own_prefix.REDIS_QUEUE_PREFIX}email:process"
    leases = JobLeases(pool, own_prefix.REDIS_QUEUE_PREFIX, queue_keys=[queue])
    orphan, owned = (f"{own_prefix.REDIS_QUEUE_PREFIX}{name}" for name in ("orphan-job", "owned-job"))
    try:
        await leases.beat()
        await pool.zadd(queue, {orphan: 1, owned: 1})
        for job in (orphan, owned):
            await pool.set(in_progress_key_prefix + job, b"1", px=900_000)
        await leases.on_job_start({"job_id": owned})

        assert await leases.free_orphans() == []  # one look is not enough: its start hook may be about to run
        assert await leases.free_orphans() == [orphan]

        assert not await pool.exists(in_progress_key_prefix + orphan)
        assert await pool.exists(in_progress_key_prefix + owned)
        assert await leases.free_orphans() == []
    finally:
        await leases.close()
        await pool.delete(queue, *(in_progress_key_prefix + job for job in (orphan, owned)))
