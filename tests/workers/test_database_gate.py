"""The workers' database gate (issue 14 item 4, D61): while MariaDB cannot be reached the worker takes no job (so
no job burns its tries against a dead database), says so once, and takes them again as soon as the database is back.
MariaDB is taken away for real: the worker reaches it through a loopback proxy that is cut and restored."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from arq.constants import retry_key_prefix
from fastapi import FastAPI
from redis.asyncio import Redis

from scaisend.models import MessageStatus
from scaisend.queues import Queues, create_arq_pool, enqueue_jobs, process_email_job, process_email_job_id
from scaisend.settings import Settings
from scaisend.workers.context import serve_queues
from scaisend.workers.email import worker_queues
from tests.compose.pipeline import message_row
from tests.factories.compose import make_message
from tests.factories.tenants import TenantKey
from tests.harness.tcp_proxy import proxied_database


async def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline, f"no log line {text!r} within {timeout}s"
        await asyncio.sleep(0.1)


@pytest.mark.timeout(90)
async def test_compose_waits_out_a_database_outage_and_resumes(
    own_prefix: Settings, app: FastAPI, tenant: TenantKey, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="scaisend.workers.database_gate")
    maker = app.state.resources.maker
    message_id = await make_message(maker, tenant.tenant_id)
    queues = Queues(own_prefix.REDIS_QUEUE_PREFIX)
    pool = await create_arq_pool(own_prefix.REDIS_URL)
    async with proxied_database(own_prefix) as proxy:
        settings = own_prefix.model_copy(
            update={"DATABASE_URL": proxy.database_url, "DATABASE_CONNECT_TIMEOUT": 1, "DATABASE_POOL_TIMEOUT": 2}
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(serve_queues(settings, worker_queues(queues), stop=stop))
        try:
            await proxy.stop()
            await wait_for_log(caplog, "database unavailable; job pickup paused", 15)
            await enqueue_jobs(pool, queues, [process_email_job(message_id)])
            await asyncio.sleep(6)  # compose would have tried three times by now (retries after 2 s and 4 s)
            assert await redis.get(retry_key_prefix + process_email_job_id(message_id)) is None  # never taken
            assert (await message_row({"maker": maker}, message_id)).status == MessageStatus.QUEUED

            await proxy.start()
            back = time.monotonic()
            while (await message_row({"maker": maker}, message_id)).status != MessageStatus.RENDERED:
                assert time.monotonic() - back < 15, "not composed within 15 s of the database coming back"
                await asyncio.sleep(0.2)
            await wait_for_log(caplog, "database back; job pickup resumed", 5)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
            await pool.aclose()
