"""``POST /v3/mail/send`` accepted (docs/sending.md, docs/architecture.md, docs/compose.md, docs/delivery.md, D21): the 202 and its quirks, the rows the compose stage reads
(the storage contract), the ``process_email`` jobs in Redis, sandbox by key and by flag, and the 403s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.jobs import Job
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.models import SendRequest
from tests.factories.messages import (
    PNG,
    SENDER,
    ProcessQueue,
    create_asm_group,
    create_batch,
    create_template,
    make_sender_domain,
    message_row,
    sandbox,
    send,
    send_body,
)
from tests.factories.tenants import TenantKey, make_key, make_tenant
from tests.harness.json_logs import captured_json_logs, parse_lines


async def stored_request(app: FastAPI, request_id: str | None) -> dict[str, Any]:
    async with unit_of_work(app.state.resources.maker) as session:
        body = await session.scalar(select(SendRequest.body).where(SendRequest.id == request_id))
    assert body is not None
    return dict(body)


class TestAccepted:
    async def test_one_personalization(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, process_queue: ProcessQueue
    ) -> None:
        before = datetime.now(UTC)
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body("Ann@Example.org"))
        assert response.status_code == 202
        message_id = response.json()["message_id"]
        assert response.json() == {"message_id": message_id}
        assert message_id.startswith("msg_")
        assert response.headers["X-Message-Id"] == message_id

        row = await message_row(app.state.resources.maker, message_id)
        assert (row.tenant_id, row.api_key_id, row.status, row.sandbox) == (
            sender.tenant_id,
            sender.key_id,
            "queued",
            False,
        )
        assert (row.from_email, row.from_name, row.subject) == (SENDER, "News", "Hello")
        assert row.to_emails == ["Ann@Example.org"]
        assert row.personalization == {"to": [{"email": "Ann@Example.org"}]}
        assert (row.template_id, row.batch_id, row.asm_group_id, row.send_at) == (None, None, None, None)
        assert (row.categories, row.custom_args, row.attempts) == ([], {}, 0)
        assert before <= row.created_at <= datetime.now(UTC)
        body = await stored_request(app, row.request_id)
        assert body == {
            "from": {"email": SENDER, "name": "News"},
            "subject": "Hello",
            "content": send_body()["content"],
        }

        scores = await process_queue.scores()
        job_id = f"process_email:{message_id}"
        assert job_id in scores
        assert before.timestamp() * 1000 - 1000 <= scores[job_id] <= datetime.now(UTC).timestamp() * 1000

    async def test_the_request_id_and_trace_travel_with_the_message(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, process_queue: ProcessQueue
    ) -> None:
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        headers = {**sender.headers, "X-Request-ID": "shop-order-991", "traceparent": f"00-{trace}-00f067aa0ba902b7-01"}
        with captured_json_logs("api") as stream:
            response = await client.post("/v3/mail/send", headers=headers, json=send_body())
        assert response.status_code == 202
        assert response.headers["x-request-id"] == "shop-order-991"
        message_id = response.json()["message_id"]
        [accepted] = [line for line in parse_lines(stream.getvalue()) if line["message"] == "send accepted"]
        assert (accepted["request_id"], accepted["trace_id"], accepted["tenant_id"]) == (
            "shop-order-991",
            trace,
            sender.tenant_id,
        )
        assert accepted["message_ids"] == [message_id]
        assert (await message_row(app.state.resources.maker, message_id)).api_request_id == "shop-order-991"
        pool = await app.state.resources.arq_pool()
        job_ref = Job(
            f"process_email:{message_id}", pool, _queue_name=process_queue.key, _deserializer=pool.job_deserializer
        )
        job = await job_ref.info()
        assert job is not None
        assert list(job.args) == [message_id]
        assert job.kwargs == {
            "correlation": {
                "request_id": "shop-order-991",
                "trace_id": trace,
                "tenant_id": sender.tenant_id,
                "message_id": message_id,
            }
        }

    async def test_several_personalizations_answer_message_ids(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, process_queue: ProcessQueue
    ) -> None:
        body = send_body(
            custom_args={"campaign": "spring", "tier": "all"},
            categories=["news", "spring"],
            personalizations=[
                {
                    "to": [{"email": "a@example.org", "name": "A"}],
                    "cc": [{"email": "c@example.org"}],
                    "subject": "For A",
                    "custom_args": {"tier": "gold"},
                    "headers": {"X-Tag": "a"},
                },
                {
                    "to": [{"email": "b@example.org"}, {"email": "b2@example.org"}],
                    "bcc": [{"email": "audit@example.org"}],
                    "substitutions": {"-name-": "B"},
                },
                {"to": [{"email": "d@example.org"}], "from": {"email": "ops@mail.example.com"}},
            ],
        )
        response = await client.post("/v3/mail/send", headers=sender.headers, json=body)
        assert response.status_code == 202
        ids = response.json()["message_ids"]
        assert list(response.json()) == ["message_ids"]
        assert len(set(ids)) == 3
        assert response.headers["X-Message-Id"] == ids[0]
        a, b, d = [await message_row(app.state.resources.maker, i) for i in ids]
        assert (a.subject, a.to_emails, a.custom_args) == (
            "For A",
            ["a@example.org"],
            {"campaign": "spring", "tier": "gold"},
        )
        assert a.personalization["cc"] == [{"email": "c@example.org"}]
        assert a.personalization["headers"] == {"X-Tag": "a"}
        assert (b.subject, b.to_emails, b.custom_args) == (
            "Hello",
            ["b@example.org", "b2@example.org"],
            {"campaign": "spring", "tier": "all"},
        )
        assert b.personalization["substitutions"] == {"-name-": "B"}
        assert (d.from_email, d.from_name) == ("ops@mail.example.com", None)
        assert a.categories == b.categories == ["news", "spring"]
        assert a.request_id == b.request_id == d.request_id
        assert "personalizations" not in await stored_request(app, a.request_id)
        scores = await process_queue.scores()
        assert {f"process_email:{i}" for i in ids} <= set(scores)

    async def test_attachments_are_stored_once_with_the_request(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey
    ) -> None:
        attachments = [
            {"content": "aGVsbG8=", "filename": "hello.txt", "type": "text/plain"},
            {
                "content": PNG,
                "filename": "logo.png",
                "type": "image/png",
                "disposition": "inline",
                "content_id": "logo",
            },
        ]
        content = [{"type": "text/plain", "value": "Hi"}, {"type": "text/html", "value": '<img src="cid:logo">'}]
        ids = await send(
            client, sender, send_body("a@example.org", "b@example.org", attachments=attachments, content=content)
        )
        rows = [await message_row(app.state.resources.maker, i) for i in ids]
        body = await stored_request(app, rows[0].request_id)
        assert body["attachments"] == [{**attachments[0], "disposition": "attachment"}, attachments[1]]
        assert all("attachments" not in r.personalization for r in rows)

    async def test_template_send_takes_the_subject_from_the_template(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey
    ) -> None:
        template_id = await create_template(client, sender)
        body = send_body(
            template_id=template_id,
            content=None,
            subject=None,
            personalizations=[
                {"to": [{"email": "a@example.org"}], "dynamic_template_data": {"name": "Ann", "items": [1, 2]}}
            ],
        )
        [message_id] = await send(client, sender, body)
        row = await message_row(app.state.resources.maker, message_id)
        assert (row.template_id, row.subject) == (template_id, None)
        assert row.personalization["dynamic_template_data"] == {"name": "Ann", "items": [1, 2]}
        assert "content" not in await stored_request(app, row.request_id)

    async def test_template_without_subject_needs_one(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        template_id = await create_template(client, sender, subject=None)
        body = send_body(template_id=template_id, content=None, subject=None)
        response = await client.post("/v3/mail/send", headers=sender.headers, json=body)
        assert [e["field"] for e in response.json()["errors"]] == ["subject"]
        assert (
            await client.post("/v3/mail/send", headers=sender.headers, json={**body, "subject": "Given"})
        ).status_code == 202

    async def test_template_without_active_version_is_400(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        template_id = await create_template(client, sender, with_version=False)
        response = await client.post(
            "/v3/mail/send", headers=sender.headers, json=send_body(template_id=template_id, content=None)
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == f"The template {template_id} has no active version."

    async def test_another_tenants_template_is_unknown(
        self, client: httpx.AsyncClient, sender: TenantKey, other_tenant: TenantKey
    ) -> None:
        template_id = await create_template(client, other_tenant)
        response = await client.post(
            "/v3/mail/send", headers=sender.headers, json=send_body(template_id=template_id, content=None)
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "template_id"

    async def test_asm_group_and_settings(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        group = await create_asm_group(client, sender)
        other = await create_asm_group(client, sender)
        settings = {
            "mail_settings": {
                "bypass_list_management": {"enable": False},
                "footer": {"enable": True, "text": "-- footer", "html": "<p>footer</p>"},
            },
            "tracking_settings": {
                "click_tracking": {"enable": True, "enable_text": False},
                "open_tracking": {"enable": True, "substitution_tag": "%open%"},
                "subscription_tracking": {"enable": True, "substitution_tag": "[u]"},
                "ganalytics": {"enable": True, "utm_source": "mail", "utm_campaign": "c"},
            },
            "ip_pool_name": "transactional",
            "reply_to": {"email": "help@example.org", "name": "Help"},
            "headers": {"X-Campaign": "spring"},
        }
        [message_id] = await send(
            client, sender, send_body(asm={"group_id": group, "groups_to_display": [group, other]}, **settings)
        )
        row = await message_row(app.state.resources.maker, message_id)
        assert row.asm_group_id == group
        body = await stored_request(app, row.request_id)
        assert body["asm"] == {"group_id": group, "groups_to_display": [group, other]}
        for key, value in settings.items():
            assert body[key] == value

    async def test_another_tenants_asm_group_is_400(
        self, client: httpx.AsyncClient, sender: TenantKey, other_tenant: TenantKey
    ) -> None:
        group = await create_asm_group(client, other_tenant)
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body(asm={"group_id": group}))
        assert [e["field"] for e in response.json()["errors"]] == ["asm.group_id"]

    async def test_unknown_fields_are_ignored(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        [message_id] = await send(
            client, sender, send_body(mail_settings={"spam_check": {"enable": True}}, sections={"x": "y"})
        )
        row = await message_row(app.state.resources.maker, message_id)
        assert await stored_request(app, row.request_id) == {
            "from": {"email": SENDER, "name": "News"},
            "subject": "Hello",
            "content": send_body()["content"],
            "mail_settings": {},
        }


class TestScheduling:
    async def test_send_at_defers_the_job(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, process_queue: ProcessQueue
    ) -> None:
        send_at = int((datetime.now(UTC) + timedelta(hours=2)).timestamp())
        [message_id] = await send(client, sender, send_body(send_at=send_at))
        row = await message_row(app.state.resources.maker, message_id)
        assert row.send_at == datetime.fromtimestamp(send_at, UTC)
        assert (await process_queue.scores())[f"process_email:{message_id}"] == send_at * 1000

    async def test_personalization_send_at_wins(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, process_queue: ProcessQueue
    ) -> None:
        now = int(datetime.now(UTC).timestamp())
        body = send_body(
            send_at=now + 3600,
            personalizations=[
                {"to": [{"email": "a@example.org"}], "send_at": now + 7200},
                {"to": [{"email": "b@example.org"}]},
            ],
        )
        a, b = await send(client, sender, body)
        scores = await process_queue.scores()
        assert scores[f"process_email:{a}"] == (now + 7200) * 1000
        assert scores[f"process_email:{b}"] == (now + 3600) * 1000
        assert (await message_row(app.state.resources.maker, a)).send_at == datetime.fromtimestamp(now + 7200, UTC)

    async def test_send_at_in_the_past_sends_now(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, process_queue: ProcessQueue
    ) -> None:
        past = int(datetime.now(UTC).timestamp()) - 600
        [message_id] = await send(client, sender, send_body(send_at=past))
        score = (await process_queue.scores())[f"process_email:{message_id}"]
        assert score >= (past + 590) * 1000
        assert (await message_row(app.state.resources.maker, message_id)).send_at == datetime.fromtimestamp(past, UTC)

    async def test_batch_id_is_kept(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        [message_id] = await send(client, sender, send_body(batch_id=batch_id))
        assert (await message_row(app.state.resources.maker, message_id)).batch_id == batch_id

    @pytest.mark.parametrize(
        "extra",
        [
            {"send_at": 1},
            {"batch_id": "batch_x"},
            {"personalizations": [{"to": [{"email": "a@example.org"}], "send_at": 1}]},
        ],
    )
    async def test_scheduling_needs_mail_schedule(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, extra: dict[str, Any]
    ) -> None:
        key = await make_key(app.state.resources.maker, sender.tenant_id, ["mail.send"])
        response = await client.post("/v3/mail/send", headers=key.headers, json=send_body(**extra))
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: mail.schedule"}


class TestSandbox:
    async def test_test_key_stores_sandbox_and_queues_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, process_queue: ProcessQueue
    ) -> None:
        owner = await make_tenant(app.state.resources.maker, environment="test")  # no sender domain at all
        response = await client.post("/v3/mail/send", headers=owner.headers, json=send_body("a@example.org"))
        assert response.status_code == 202
        message_id = response.json()["message_id"]
        assert response.headers["X-Message-Id"] == message_id
        row = await message_row(app.state.resources.maker, message_id)
        assert (row.status, row.sandbox) == ("sandbox", True)
        assert f"process_email:{message_id}" not in await process_queue.scores()

    async def test_flag_on_a_live_key(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, process_queue: ProcessQueue
    ) -> None:
        ids = await send(client, tenant, sandbox(send_body("a@example.org", "b@example.org")))
        rows = [await message_row(app.state.resources.maker, i) for i in ids]
        assert [(r.status, r.sandbox) for r in rows] == [("sandbox", True)] * 2
        assert not {f"process_email:{i}" for i in ids} & set(await process_queue.scores())

    async def test_sandbox_validates_like_live(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=tenant.headers, json=sandbox(send_body("not an address")))
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "personalizations.0.to.0.email"

    async def test_flag_false_is_live(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            "/v3/mail/send", headers=tenant.headers, json=send_body(mail_settings={"sandbox_mode": {"enable": False}})
        )
        assert response.status_code == 403


class TestSenderDomain:
    async def test_unverified_domain_is_403(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=tenant.headers, json=send_body())
        assert response.status_code == 403
        assert response.json()["errors"] == [
            {"message": "Sender domain not verified", "field": "from.email", "help": None}
        ]

    @pytest.mark.parametrize(("verified", "active"), [(False, True), (True, False)])
    async def test_domain_must_be_verified_and_active(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, verified: bool, active: bool
    ) -> None:
        await make_sender_domain(app.state.resources.maker, tenant.tenant_id, verified=verified, active=active)
        assert (await client.post("/v3/mail/send", headers=tenant.headers, json=send_body())).status_code == 403

    async def test_another_tenants_domain_does_not_count(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey, tenant: TenantKey
    ) -> None:
        assert (await client.post("/v3/mail/send", headers=tenant.headers, json=send_body())).status_code == 403

    async def test_validation_errors_come_before_the_domain(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post("/v3/mail/send", headers=tenant.headers, json=send_body(subject=""))
        assert response.status_code == 400


class TestAuth:
    async def test_missing_mail_send_scope(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        key = await make_key(app.state.resources.maker, sender.tenant_id, ["mail.schedule"])
        response = await client.post("/v3/mail/send", headers=key.headers, json=send_body())
        assert (response.status_code, response.json()) == (403, {"detail": "Missing required scope: mail.send"})

    async def test_no_credentials(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v3/mail/send", json=send_body())
        assert response.status_code == 401
