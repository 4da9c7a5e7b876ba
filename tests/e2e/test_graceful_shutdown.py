"""SIGTERM lets in-flight work finish within SHUTDOWN_GRACE_SECONDS, or hands it back (issue 14 item 5, D62), for the
API, the SMTP service (the worker shares its code: ``scaisend.workers.context``) and the exporter, run as real
processes the way systemd and Kubernetes run them."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from arq.constants import in_progress_key_prefix
from fastapi import FastAPI

from scaisend.delivery.tasks import enqueue_delivery, job_id
from scaisend.settings import Settings
from tests.factories.delivery import DeliveryWorld, Sender, make_sender, open_world
from tests.factories.messages import make_sender_domain, send_body
from tests.factories.tenants import make_tenant
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import AtData, ScriptableMX, Slow
from tests.harness.processes import free_port, start_service, stop_process, wait_http

GRACE = 15  # the processes' drain is 10 s of it


def start(command: str, settings: Settings, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    return start_service(command, settings, log, SHUTDOWN_GRACE_SECONDS=str(GRACE), **extra)


def terminate_and_time(process: subprocess.Popen[bytes], log: Path) -> float:
    """SIGTERM; seconds until the process exited cleanly: 0, or by the SIGTERM uvicorn re-raises once it has shut
    down (systemd and Kubernetes count both as a clean stop). Fails the test if it needed SIGKILL or crashed."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=GRACE + 30)
    except subprocess.TimeoutExpired:
        stop_process(process, timeout=1)
        pytest.fail(f"still running {GRACE + 30}s after SIGTERM:\n{log.read_text()[-3000:]}")
    assert code in (0, -signal.SIGTERM), log.read_text()[-3000:]
    return time.monotonic() - started


@pytest.fixture
def child() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            stop_process(process, timeout=5)


@pytest.mark.timeout(180)
async def test_api_completes_a_request_in_flight(
    app: FastAPI, database: Settings, tmp_path: Path, child: list[subprocess.Popen[bytes]]
) -> None:
    owner = await make_tenant(app.state.resources.maker)
    await make_sender_domain(app.state.resources.maker, owner.tenant_id)
    port = free_port()
    log = tmp_path / "api.log"
    child.append(start("serve", database, log, API_PORT=str(port), API_HOST="127.0.0.1"))
    base = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(wait_http, f"{base}/ready", 90)

    first_half_sent, go_on = threading.Event(), threading.Event()
    body = httpx.Request("POST", "/", json=send_body(f"{uuid.uuid4().hex[:8]}@example.org")).content

    def slow_body() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        first_half_sent.set()
        go_on.wait(30)
        yield body[len(body) // 2 :]

    def post() -> httpx.Response:
        headers = {**owner.headers, "Content-Type": "application/json", "Content-Length": str(len(body))}
        return httpx.post(f"{base}/v3/mail/send", headers=headers, content=slow_body(), timeout=60)

    response_task = asyncio.create_task(asyncio.to_thread(post))
    assert await asyncio.to_thread(first_half_sent.wait, 30)
    exit_task = asyncio.create_task(asyncio.to_thread(terminate_and_time, child[0], log))
    await asyncio.sleep(2)  # the API has SIGTERM and is draining
    assert child[0].poll() is None
    go_on.set()
    response = await response_task
    assert response.status_code == 202, response.text
    assert await exit_task < GRACE


@pytest.fixture(scope="module")
async def sender(app: FastAPI) -> Sender:
    return await make_sender(app.state.resources.maker, app.state.resources.settings)


@pytest.fixture
async def world(app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender) as w:
        w.route("rcpt.example.test")
        yield w


def smtp_service(world: DeliveryWorld, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "smtp.log"
    process = start(
        "smtp",
        world.settings,
        log,
        SMTP_METRICS_PORT=str(free_port()),
        SMTP_INBOUND_PORT=str(free_port()),
        INBOUND_QUARANTINE_PATH=str(tmp_path / "inbound"),
    )
    return process, log


@pytest.mark.timeout(180)
async def test_smtp_service_finishes_a_delivery_in_flight(
    world: DeliveryWorld, mx: ScriptableMX, tmp_path: Path, child: list[subprocess.Popen[bytes]]
) -> None:
    to = f"r{uuid.uuid4().hex[:8]}@rcpt.example.test"
    mx.script(to, AtData(Slow(3)))  # the MX takes 3 s to answer the end of DATA (the world's SMTP_TIMEOUT is 5 s)
    message_id = await world.message([to])
    await enqueue_delivery(world.ctx["redis"], world.ctx["queues"], message_id, 1)
    process, log = smtp_service(world, tmp_path)
    child.append(process)
    await mx.wait_until(lambda: mx.attempts(to) == 1, timeout=90)

    took = await asyncio.to_thread(terminate_and_time, process, log)

    assert took < GRACE
    assert (await world.row(message_id)).status == "delivered"
    assert len(mx.mailbox(to)) == 1
    assert await world.queued(message_id, 1) is None


@pytest.fixture
async def patient_world(
    app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX, sender: Sender
) -> AsyncIterator[DeliveryWorld]:
    async with open_world(app, dns, mx, sender=sender, SMTP_TIMEOUT="60s") as w:
        w.route("rcpt.example.test")
        yield w


@pytest.mark.timeout(180)
async def test_smtp_service_hands_back_a_delivery_that_outlasts_the_grace(
    patient_world: DeliveryWorld, mx: ScriptableMX, tmp_path: Path, child: list[subprocess.Popen[bytes]]
) -> None:
    world = patient_world
    to = f"r{uuid.uuid4().hex[:8]}@rcpt.example.test"
    mx.script(to, AtData(Slow(GRACE + 5)))
    message_id = await world.message([to])
    await enqueue_delivery(world.ctx["redis"], world.ctx["queues"], message_id, 1)
    process, log = smtp_service(world, tmp_path)
    child.append(process)
    await mx.wait_until(lambda: mx.attempts(to) == 1, timeout=90)

    took = await asyncio.to_thread(terminate_and_time, process, log)

    assert took < GRACE
    assert "handing unfinished jobs back to their queues" in log.read_text()
    assert await world.queued(message_id, 1) is not None  # back on smtp:deliver for the next SMTP service
    assert not await world.ctx["redis"].exists(in_progress_key_prefix + job_id(message_id, 1))
    assert (await world.row(message_id)).status == "sending"


@pytest.mark.timeout(120)
async def test_exporter_stops_at_once(database: Settings, tmp_path: Path, child: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    log = tmp_path / "exporter.log"
    child.append(start("exporter", database, log, EXPORTER_PORT=str(port)))
    await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/health", 90)
    assert await asyncio.to_thread(terminate_and_time, child[0], log) < 5
