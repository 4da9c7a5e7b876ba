"""The job wrapper (D56) in a real burst worker on Redis: a job runs with exactly the correlation fields its payload
carried, its start and end are structured lines, and arq's text lines are gone."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq.connections import ArqRedis
from arq.worker import func

from scaisend.logs import JOB_CORRELATION_KWARG
from scaisend.queues import Queues
from scaisend.settings import Settings
from scaisend.workers.context import serve_queues
from tests.harness.json_logs import CORRELATION_KEYS, captured_json_logs, parse_lines

log = logging.getLogger("tests.workers.job")


async def greet(ctx: dict[str, Any], name: str) -> str:
    log.info("greeting", extra={"who": name})
    return f"hello {name}"


async def explode(ctx: dict[str, Any]) -> None:
    raise RuntimeError("boom")


async def test_jobs_run_with_their_fields_and_log_structured_lines(own_prefix: Settings, pool: ArqRedis) -> None:
    queue = Queues(own_prefix.REDIS_QUEUE_PREFIX).email_process
    carried = {"request_id": "req-abc", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "tenant_id": "tnt_1"}
    ids = {name: f"test-{name}-{uuid.uuid4().hex}" for name in ("with", "without", "fails")}
    await pool.enqueue_job(
        "greet",
        "ann",
        _job_id=ids["with"],
        _queue_name=queue,
        **{JOB_CORRELATION_KWARG: carried | {"message_id": "m1"}},
    )
    await pool.enqueue_job("greet", "bob", _job_id=ids["without"], _queue_name=queue)
    await pool.enqueue_job("explode", _job_id=ids["fails"], _queue_name=queue, **{JOB_CORRELATION_KWARG: carried})

    with captured_json_logs("worker") as stream:
        await serve_queues(
            own_prefix, {queue: [func(greet, name="greet", keep_result=0), func(explode, max_tries=1)]}, burst=True
        )
    lines = parse_lines(stream.getvalue())

    by_job = {job_id: [r for r in lines if r.get("job_id") == job_id] for job_id in ids.values()}
    started, finished = by_job[ids["with"]]
    assert (started["message"], finished["message"]) == ("job started", "job finished")
    for line in (started, finished):
        assert {k: line.get(k) for k in CORRELATION_KEYS} == carried | {"message_id": "m1"}
        assert (line["job_function"], line["queue"], line["job_try"]) == ("greet", "email:process", 1)
    assert started["queue_wait_ms"] >= 0
    assert finished["outcome"] == "hello ann"
    assert finished["duration_ms"] >= 0

    greetings = {r["who"]: r for r in lines if r["message"] == "greeting"}
    assert {k: greetings["ann"].get(k) for k in CORRELATION_KEYS} == carried | {"message_id": "m1"}
    assert not set(CORRELATION_KEYS) & greetings["bob"].keys()  # nothing leaks from one job into the next
    assert all(not set(CORRELATION_KEYS) & r.keys() for r in by_job[ids["without"]])

    failed = by_job[ids["fails"]][-1]
    assert (failed["message"], failed["level"], failed["error_type"]) == ("job failed", "ERROR", "RuntimeError")
    assert failed["request_id"] == "req-abc"
    assert "boom" in failed["exc_info"]

    arq_text = [r["message"] for r in lines if r.get("logger") == "arq.worker"]
    assert not [m for m in arq_text if any(mark in m for mark in ("→", "←", "●", "! "))], arq_text
