"""Issue 9 finding 8: arq jobs were pickled (write access to Redis meant code execution in the workers), one request's
attachments were multiplied by its personalizations without bound and stored once per personalization, and the
unsubscribe pages had no Content-Security-Policy. The bundle's part (Redis authentication, NetworkPolicies) is tested
in tests/deploy."""

from __future__ import annotations

import base64
import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.constants import job_key_prefix
from arq.worker import func
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import func as sql
from sqlalchemy import select, update

from scaisend.compose.tasks import process_email
from scaisend.db.session import unit_of_work
from scaisend.mail.validation import MAX_ATTACHMENT_BYTES_ACROSS_PERSONALIZATIONS
from scaisend.models import Message, MessageContent, SendRequest
from scaisend.queues import Queues, deserialize_job, process_email_job_id, serialize_job
from scaisend.settings import Settings
from scaisend.tracking.tokens import TokenKind, sign_token
from tests.factories.compose import make_message, personalization, send_body
from tests.factories.delivery import dkim_verifies, open_world
from tests.factories.messages import SENDER_DOMAIN, ProcessQueue, make_sender_domain
from tests.factories.sent import make_sent_message
from tests.factories.tenants import TenantKey, make_key, make_tenant
from tests.harness.arq_worker import run_burst_worker
from tests.harness.dns import LoopbackDNS
from tests.harness.mx import ACCEPT_RCPT, ScriptableMX


class _Touch:
    """What an attacker with Redis write access would queue: unpickling it creates ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.path),))


class TestJobsAreJson:
    async def test_an_accepted_send_queues_a_json_job(
        self, app: FastAPI, client: httpx.AsyncClient, redis: Redis
    ) -> None:
        queue = ProcessQueue(redis, app.state.resources.queues.email_process)
        owner = await make_tenant(app.state.resources.maker)
        await make_sender_domain(app.state.resources.maker, owner.tenant_id)
        body = {**send_body(**{"from": {"email": f"news@{SENDER_DOMAIN}"}}), "personalizations": [personalization()]}
        try:
            response = await client.post("/v3/mail/send", json=body, headers=owner.headers)
            assert response.status_code == 202
            message_id = response.headers["X-Message-Id"]
            raw = await redis.get(job_key_prefix + process_email_job_id(message_id))
            assert raw is not None
            job = json.loads(raw)
            assert (job["f"], job["a"]) == ("process_email", [message_id])
        finally:
            await queue.clear()

    async def test_a_pickled_job_written_to_redis_runs_no_code(
        self, own_prefix: Settings, redis: Redis, tmp_path: Path
    ) -> None:
        marker = tmp_path / "pwned"
        queue = Queues(own_prefix.REDIS_QUEUE_PREFIX).email_process
        payload = pickle.dumps({"t": 1, "f": "process_email", "a": [_Touch(marker)], "k": {}, "et": 1})
        await redis.set(job_key_prefix + "evil", payload)
        await redis.zadd(queue, {"evil": time.time() * 1000})
        ran: list[str] = []

        async def process_email(_ctx: dict[str, Any], message_id: str) -> None:
            ran.append(message_id)

        worker = await run_burst_worker(own_prefix.REDIS_URL, queue, [func(process_email, name="process_email")])
        assert not marker.exists()
        assert ran == []
        assert worker.jobs_failed == 1
        assert await redis.zcard(queue) == 0  # dropped, not retried

    def test_results_that_json_cannot_hold_are_kept_as_text(self) -> None:
        data = deserialize_job(serialize_job({"r": ValueError("boom"), "s": False}))
        assert data == {"r": "boom", "s": False}
        with pytest.raises(ValueError, match="JSON object"):
            deserialize_job(b"[1]")


class TestAttachmentVolume:
    async def test_attachments_times_personalizations_are_capped(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        one_mb = base64.b64encode(os.urandom(1024 * 1024)).decode()
        attachment = {"content": one_mb, "filename": "a.bin", "type": "application/octet-stream"}
        copies = MAX_ATTACHMENT_BYTES_ACROSS_PERSONALIZATIONS // (1024 * 1024)

        def body(count: int) -> dict[str, Any]:
            return {
                **send_body(attachments=[attachment], mail_settings={"sandbox_mode": {"enable": True}}),
                "personalizations": [personalization(f"r{n}@example.test") for n in range(count)],
            }

        refused = await client.post("/v3/mail/send", json=body(copies + 1), headers=tenant.headers)
        assert refused.status_code == 400
        [error] = refused.json()["errors"]
        assert error["field"] == "attachments"
        assert f"at most {copies} MB" in error["message"]
        accepted = await client.post("/v3/mail/send", json=body(copies), headers=tenant.headers)
        assert accepted.status_code == 202, accepted.text[:500]


def without_signature(data: bytes) -> bytes:
    """The sent bytes after the DKIM-Signature header (its ``t=`` differs between attempts; the rest must not)."""
    assert data.startswith(b"DKIM-Signature:")
    lines = data.split(b"\r\n")
    end = 1 + next(i for i, line in enumerate(lines[1:]) if not line.startswith((b" ", b"\t")))
    return b"\r\n".join(lines[end:])


class TestAttachmentsStoredOnce:
    async def test_one_copy_in_the_database_every_copy_intact_and_signed_on_the_wire(
        self, app: FastAPI, client: httpx.AsyncClient, dns: LoopbackDNS, mx: ScriptableMX
    ) -> None:
        size, count = 3 * 1024 * 1024, 4
        attachment = os.urandom(size)
        async with open_world(app, dns, mx) as world:
            world.route("rcpt.example.test")
            key = await make_key(world.maker, world.sender.tenant_id, ["mail.send"])
            first, later = "first@rcpt.example.test", "later@rcpt.example.test"
            people = [personalization(first, later)] + [
                personalization(f"p{n}@rcpt.example.test") for n in range(1, count)
            ]
            body = {
                **send_body(**{"from": {"email": world.sender.address}}),
                "attachments": [{"content": base64.b64encode(attachment).decode(), "filename": "big.bin"}],
                "personalizations": people,
            }
            accepted = await client.post("/v3/mail/send", json=body, headers=key.headers)
            assert accepted.status_code == 202, accepted.text[:500]
            async with unit_of_work(world.maker) as session:
                request_id = await session.scalar(
                    select(Message.request_id).where(Message.id == accepted.headers["X-Message-Id"])
                )
                ids = list(await session.scalars(select(Message.id).where(Message.request_id == request_id)))
            assert len(ids) == count
            for message_id in ids:
                assert await process_email(world.ctx, message_id) == "rendered"

            async with unit_of_work(world.maker) as session:
                stored = await session.scalar(
                    select(sql.sum(sql.length(MessageContent.mime))).where(MessageContent.message_id.in_(ids))
                )
                request_bytes = await session.scalar(
                    select(sql.length(sql.json_extract(SendRequest.body, "$.attachments[0].content"))).where(
                        SendRequest.id == request_id
                    )
                )
            assert int(stored) < count * 16 * 1024  # the rendered messages: headers, text, html; no attachment
            assert int(request_bytes) >= size * 4 // 3  # the one copy, base64, in send_requests

            mx.script(later, "421 4.7.0 Try again later", ACCEPT_RCPT)
            for message_id in ids:
                await world.run(message_id)
            deferred = accepted.headers["X-Message-Id"]  # the first personalization's message: first and later
            retry_at = (await world.row(deferred)).next_attempt_at
            assert retry_at is not None
            world.clock.advance(retry_at - world.clock.now())
            await world.run(deferred, 2)

            received = [r for r in mx.messages if r.rcpt_tos[0].endswith("@rcpt.example.test")]
            assert sorted(r.rcpt_tos[0] for r in received) == sorted(
                [first, later, *(f"p{n}@rcpt.example.test" for n in range(1, count))]
            )
            for message in received:
                assert dkim_verifies(message.data, dns)
                [part] = [p for p in message.message.walk() if p.get_filename() == "big.bin"]
                assert part.get_payload(decode=True) == attachment
            [on_first] = mx.mailbox(first)
            [on_retry] = mx.mailbox(later)
            assert on_first.data != on_retry.data  # a later signature time
            assert without_signature(on_retry.data) == without_signature(on_first.data)

    async def test_a_changed_stored_attachment_fails_the_message_instead_of_sending_other_bytes(
        self, app: FastAPI, dns: LoopbackDNS, mx: ScriptableMX
    ) -> None:
        async with open_world(app, dns, mx) as world:
            world.route("rcpt.example.test")
            attachment = {"content": base64.b64encode(b"original").decode(), "filename": "a.txt"}
            body = send_body(**{"from": {"email": world.sender.address}, "attachments": [attachment]})
            message_id = await make_message(
                world.maker, world.sender.tenant_id, body=body, personalization_=personalization("x@rcpt.example.test")
            )
            assert await process_email(world.ctx, message_id) == "rendered"
            changed = {**body, "attachments": [{**attachment, "content": base64.b64encode(b"changed!").decode()}]}
            async with unit_of_work(world.maker) as session:
                request_id = await session.scalar(select(Message.request_id).where(Message.id == message_id))
                await session.execute(update(SendRequest).where(SendRequest.id == request_id).values(body=changed))
            reason = await world.run(message_id)
            assert (
                reason
                == "Rendered message content is incomplete: attachments[0] of the send request is missing or changed"
            )
            row = await world.row(message_id)
            assert (row.status, row.error_message) == ("failed", reason)
            assert mx.messages == []


class TestUnsubscribePageCsp:
    async def test_pages_carry_a_strict_policy(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        sent = await make_sent_message(app.state.resources.maker, tenant.tenant_id)
        keys = app.state.resources.settings.secret_keys
        token = sign_token(keys, kind=TokenKind.UNSUBSCRIBE, message_id=sent.id, recipient=sent.recipient)
        for response in (
            await client.get(f"/t/u/{token}"),
            await client.post(f"/t/u/{token}", data={"action": "unsubscribe_all"}),
            await client.get("/t/u/not-a-token"),
        ):
            policy = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in policy
            assert "script-src" not in policy  # falls back to 'none': no script runs, inline or not
            assert "frame-ancestors 'none'" in policy
            assert "form-action 'self'" in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
