"""The after-commit hand-off, the one way a stage hands work to the next (issue 13, issue 14 item 2, D76;
D22, D23).

Code that decides a job inside a transaction (a message accepted, composed or deferred; a webhook delivery written)
calls :func:`hand_off` with the :class:`scaisend.queues.Job`; the owner of the unit of work queues it only AFTER the
commit, so no job ever refers to a row that was never committed:

- API requests: ``scaisend.api.deps.get_session`` is a :func:`unit_of_work_handing_off`;
- worker jobs: ``async with job_unit_of_work(ctx) as session``.

A transaction that rolls back queues nothing. When Redis refuses the enqueue after the commit, a request logs it and
answers as usual, and a job raises (arq runs it again in seconds, and the re-run finds the committed state and hands
off again, e.g. compose's "already rendered"). A crash or a Redis error between the commit and the enqueue loses
nothing: job ids are deterministic, and the reconciler of every worker and SMTP process
(:mod:`scaisend.workers.queue_rebuild`) queues within about a minute what is still missing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.job_context import JobContext
from scaisend.queues import Job, Queues, enqueue_jobs

logger = logging.getLogger(__name__)

_HANDED_OFF: Final = "scaisend.handoff.jobs"


def hand_off(session: AsyncSession, jobs: Iterable[Job]) -> None:
    """Queue ``jobs`` once this session's transaction commits."""
    session.info.setdefault(_HANDED_OFF, []).extend(jobs)


def handed_off(session: AsyncSession) -> list[Job]:
    """The jobs handed off on ``session`` and not queued yet (taken: a second call returns none)."""
    jobs: list[Job] = session.info.pop(_HANDED_OFF, [])
    return jobs


async def enqueue_handed_off(
    session: AsyncSession, redis: Redis, queues: Queues, *, raise_errors: bool = False
) -> bool:
    """Queue the jobs handed off on ``session`` (call after its commit); ``False`` when Redis failed, which is logged
    (the rows are committed and the reconciler queues them) and, with ``raise_errors``, raised."""
    jobs = handed_off(session)
    if not jobs:
        return True
    try:
        await enqueue_jobs(redis, queues, jobs)
    except (RedisError, OSError):
        if raise_errors:
            raise
        logger.warning(
            "hand-off not enqueued; the reconciler will queue it",
            extra={"jobs": [job.job_id for job in jobs[:20]], "count": len(jobs)},
            exc_info=True,
        )
        return False
    return True


@asynccontextmanager
async def unit_of_work_handing_off(
    maker: async_sessionmaker[AsyncSession], redis: Redis, queues: Queues, *, raise_errors: bool = False
) -> AsyncIterator[AsyncSession]:
    """:func:`scaisend.db.session.unit_of_work`, then the jobs handed off in it once it has committed (a Redis error
    raised only with ``raise_errors``)."""
    async with unit_of_work(maker) as session:
        try:
            yield session
        except BaseException:
            handed_off(session)  # rolled back: nothing to queue
            raise
    await enqueue_handed_off(session, redis, queues, raise_errors=raise_errors)


def job_unit_of_work(ctx: JobContext) -> AbstractAsyncContextManager[AsyncSession]:
    """The worker-job edge: a unit of work on the job's ``ctx`` that queues its hand-offs after the commit; a Redis
    error then raises, so arq runs the job again."""
    return unit_of_work_handing_off(ctx["maker"], ctx["redis"], ctx["queues"], raise_errors=True)
