"""The one retry wrapper (D65) with errors raised by the real MariaDB and Redis: a lost database or Redis connection
becomes arq's ``Retry`` with a delay that grows with the try number, and the job really runs again in a worker; an
``IntegrityError`` (a duplicate key) is not transient: it passes through and the job runs once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Function, Retry, func
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import exc as sa_exc
from sqlalchemy import make_url, text

from scaisend.db.session import create_engine
from scaisend.job_context import JobContext, as_arq
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.transient_errors import is_transient, retry_transient
from scaisend.workers.context import serve_queues
from scaisend.workers.email import worker_queues
from scaisend.workers.smtp import SMTP_JOBS


async def database_unreachable(settings: Settings) -> None:
    """Open a connection to a port nobody listens on (MariaDB's "can't connect", error 2003)."""
    url = make_url(settings.DATABASE_URL).set(port=1)
    engine = create_engine(settings.model_copy(update={"DATABASE_URL": url.render_as_string(hide_password=False)}))
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def duplicate_key(settings: Settings) -> None:
    """Insert the same primary key twice into a temporary table of the real database."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("CREATE TEMPORARY TABLE dup (id INT PRIMARY KEY)"))
            await connection.execute(text("INSERT INTO dup VALUES (1)"))
            await connection.execute(text("INSERT INTO dup VALUES (1)"))
    finally:
        await engine.dispose()


async def redis_unreachable(settings: Settings) -> None:
    unreachable = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    try:
        await unreachable.ping()
    finally:
        await unreachable.aclose()


def context(settings: Settings, job_try: int) -> JobContext:
    return {"settings": settings, "job_try": job_try}  # type: ignore[typeddict-item]  # only what the wrapper reads


class TestWrapper:
    @pytest.mark.parametrize("fault", [database_unreachable, redis_unreachable])
    @pytest.mark.parametrize(("job_try", "defer_ms"), [(1, 7000), (3, 21000)])
    async def test_a_lost_connection_is_retried_later_with_each_try(
        self, database: Settings, fault: Any, job_try: int, defer_ms: int
    ) -> None:
        @retry_transient(7)
        async def job(ctx: JobContext) -> str:
            await fault(ctx["settings"])
            return "done"

        with pytest.raises(Retry) as retry:
            await job(context(database, job_try))

        assert retry.value.defer_score == defer_ms
        assert isinstance(retry.value.__cause__, sa_exc.OperationalError | RedisConnectionError)

    async def test_an_integrity_error_is_not_retried(self, database: Settings) -> None:
        @retry_transient(7)
        async def job(ctx: JobContext) -> str:
            await duplicate_key(ctx["settings"])
            return "done"

        with pytest.raises(sa_exc.IntegrityError) as raised:
            await job(context(database, 1))
        assert not is_transient(raised.value)


class TestInAWorker:
    async def test_the_job_runs_again_after_a_transient_error_and_once_after_a_duplicate(
        self, own_prefix: Settings, pool: ArqRedis
    ) -> None:
        queue = Queues(own_prefix.REDIS_QUEUE_PREFIX).email_process
        runs = f"test-runs-{uuid.uuid4().hex}"

        @retry_transient(0)  # no wait, so the burst worker runs the retry at once
        async def flaky(ctx: JobContext, fault: str) -> int:
            tries = await ctx["redis"].incr(f"{runs}:{fault}")
            if tries == 1 or fault == "duplicate":
                await (database_unreachable if fault == "lost" else duplicate_key)(ctx["settings"])
            return tries

        await pool.enqueue_job("flaky", "lost", _queue_name=queue)
        await pool.enqueue_job("flaky", "duplicate", _queue_name=queue)
        await serve_queues(own_prefix, {queue: [func(as_arq(flaky), name="flaky", max_tries=5)]}, burst=True)

        assert await pool.get(f"{runs}:lost") == b"2"
        assert await pool.get(f"{runs}:duplicate") == b"1"
        await pool.delete(f"{runs}:lost", f"{runs}:duplicate")


def test_every_queued_job_of_both_processes_uses_the_wrapper() -> None:
    registered = [*SMTP_JOBS, *(f for jobs in worker_queues(Queues("p:")).values() for f in jobs)]
    names = {f.name: getattr(f.coroutine, "retries_transient", None) for f in registered if isinstance(f, Function)}
    assert set(names) == {"process_email", "deliver_webhook", "deliver_message"}
    assert all(step for step in names.values()), names
