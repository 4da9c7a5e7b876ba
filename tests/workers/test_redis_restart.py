"""Redis restarted or its connection cut (issue 14 item 3): the worker's queue polling comes back on its own and
takes the jobs enqueued after Redis returned. Redis is taken away for real: the worker reaches it through a loopback
proxy that is cut and restored."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from scaisend.models import MessageStatus
from scaisend.queues import Queues, create_arq_pool, enqueue_jobs, process_email_job
from scaisend.settings import Settings
from scaisend.workers.context import serve_queues
from scaisend.workers.email import worker_queues
from tests.compose.pipeline import message_row
from tests.factories.compose import make_message
from tests.factories.tenants import TenantKey
from tests.harness.tcp_proxy import TcpProxy
from tests.workers.test_database_gate import wait_for_log


@pytest.fixture
async def redis_proxy(own_prefix: Settings) -> AsyncIterator[TcpProxy]:
    url = make_url(own_prefix.REDIS_URL.replace("redis://", "mysql://", 1))  # only to parse host, port and db
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 6379)
    await proxy.start()
    proxy.database_url = f"redis://127.0.0.1:{proxy.port}/{url.database}"
    yield proxy
    await proxy.stop()


@pytest.mark.timeout(90)
async def test_worker_takes_jobs_again_after_redis_comes_back(
    own_prefix: Settings,
    app: FastAPI,
    tenant: TenantKey,
    redis: Redis,
    redis_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="scaisend.workers.context")
    maker = app.state.resources.maker
    queues = Queues(own_prefix.REDIS_QUEUE_PREFIX)
    settings = own_prefix.model_copy(update={"REDIS_URL": redis_proxy.database_url})
    stop = asyncio.Event()
    worker = asyncio.create_task(serve_queues(settings, worker_queues(queues), stop=stop))
    pool = await create_arq_pool(own_prefix.REDIS_URL)
    try:
        await asyncio.sleep(2)  # polling
        await redis_proxy.stop()
        await wait_for_log(caplog, "queue polling interrupted: Redis unavailable; retrying", 15)
        await asyncio.sleep(2)
        await redis_proxy.start()

        message_id = await make_message(maker, tenant.tenant_id)
        await enqueue_jobs(pool, queues, [process_email_job(message_id)])
        back = time.monotonic()
        while (await message_row({"maker": maker}, message_id)).status != MessageStatus.RENDERED:
            assert time.monotonic() - back < 30, "not composed within 30 s of Redis coming back"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await pool.aclose()
