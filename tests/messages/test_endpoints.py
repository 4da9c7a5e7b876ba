"""``/v3/messages`` (docs/sending.md, D4, D48) on MariaDB: every list filter, pagination, the detail with its event timeline,
and the state rules of cancel, retry and fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.jobs import Job
from fastapi import FastAPI
from redis.asyncio import Redis

from scaisend.models import MessageStatus
from tests.factories.messages import (
    add_event,
    create_batch,
    create_template,
    message_row,
    sandbox,
    send,
    send_body,
    send_sandbox,
    set_message,
)
from tests.factories.tenants import TenantKey, make_key

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def listed(client: httpx.AsyncClient, owner: TenantKey, **params: Any) -> dict[str, Any]:
    response = await client.get("/v3/messages", headers=owner.headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def ids(client: httpx.AsyncClient, owner: TenantKey, **params: Any) -> list[str]:
    return [m["id"] for m in (await listed(client, owner, **params))["messages"]]


class TestList:
    async def test_shape_and_newest_first(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        first, second = await send_sandbox(client, tenant, "a@example.org", "b@example.org", categories=["news"])
        await set_message(maker, first, created_at=T0)
        await set_message(maker, second, created_at=T0 + timedelta(seconds=1), delivered_at=T0 + timedelta(hours=1))
        await send_sandbox(client, other_tenant)
        body = await listed(client, tenant)
        assert (body["total"], body["page"], body["page_size"], body["total_pages"]) == (2, 1, 25, 1)
        assert [m["id"] for m in body["messages"]] == [second, first]
        request_id = body["messages"][0].pop("request_id")  # generated: the send carried no X-Request-ID
        assert len(request_id) == 32
        assert body["messages"][1]["request_id"] == request_id
        assert body["messages"][0] == {
            "id": second,
            "status": "sandbox",
            "from_email": "news@mail.example.com",
            "from_name": "News",
            "subject": "Hello",
            "to_emails": ["b@example.org"],
            "template_id": None,
            "batch_id": None,
            "categories": ["news"],
            "created_at": "2026-03-10T12:00:01Z",
            "delivered_at": "2026-03-10T13:00:00Z",
        }

    async def test_pagination(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        sent = await send_sandbox(client, tenant, *[f"r{i}@example.org" for i in range(5)])
        for i, message_id in enumerate(sent):
            await set_message(app.state.resources.maker, message_id, created_at=T0 + timedelta(minutes=i))
        newest_first = list(reversed(sent))
        page2 = await listed(client, tenant, page=2, page_size=2)
        assert (page2["total"], page2["total_pages"], page2["page"], page2["page_size"]) == (5, 3, 2, 2)
        assert [m["id"] for m in page2["messages"]] == newest_first[2:4]
        assert await ids(client, tenant, page=3, page_size=2) == newest_first[4:]
        assert await ids(client, tenant, page=4, page_size=2) == []

    @pytest.mark.parametrize(
        "params",
        [
            {"page": 0},
            {"page_size": 0},
            {"page_size": 101},
            {"status": "lost"},
            {"start_date": "yesterday"},
            {"end_date": "2026-13-01"},
        ],
    )
    async def test_invalid_parameters_are_422(
        self, client: httpx.AsyncClient, tenant: TenantKey, params: dict[str, Any]
    ) -> None:
        response = await client.get("/v3/messages", headers=tenant.headers, params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]

    async def test_empty_tenant(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        assert await listed(client, tenant) == {
            "messages": [],
            "total": 0,
            "page": 1,
            "page_size": 25,
            "total_pages": 0,
        }


class TestFilters:
    async def test_status(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        a, b = await send_sandbox(client, tenant, "a@example.org", "b@example.org")
        await set_message(app.state.resources.maker, a, status="failed")
        assert await ids(client, tenant, status="failed") == [a]
        assert await ids(client, tenant, status="SANDBOX") == [b]

    async def test_to_email_is_exact_and_ignores_case(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        body = send_body(
            personalizations=[
                {"to": [{"email": "Bob@Example.org"}, {"email": "carol@example.org"}]},
                {"to": [{"email": "xbob@example.org"}]},
                {"to": [{"email": "a_b%c@example.org"}]},
                {"to": [{"email": "aXbYc@example.org"}]},
            ]
        )
        both, xbob, special, _lookalike = await send(client, tenant, sandbox(body))
        assert await ids(client, tenant, to_email="bob@example.org") == [both]
        assert await ids(client, tenant, to_email="CAROL@example.org") == [both]
        assert await ids(client, tenant, to_email="xbob@example.org") == [xbob]
        assert await ids(client, tenant, to_email="a_b%c@example.org") == [special]
        assert await ids(client, tenant, to_email="example.org") == []

    async def test_from_subject_template_batch_category(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        template_id = await create_template(client, tenant)
        batch_id = await create_batch(client, tenant)
        [templated] = await send_sandbox(client, tenant, template_id=template_id, content=None, subject="Weekly 100%")
        [batched] = await send_sandbox(
            client,
            tenant,
            batch_id=batch_id,
            categories=["news", "weekly_digest"],
            **{"from": {"email": "Other@mail.example.com"}},
        )
        [plain] = await send_sandbox(client, tenant, subject="Monthly report", categories=["weeklyXdigest"])
        assert await ids(client, tenant, template_id=template_id) == [templated]
        assert await ids(client, tenant, batch_id=batch_id) == [batched]
        assert await ids(client, tenant, from_email="other@mail.example.com") == [batched]
        assert set(await ids(client, tenant, from_email="news@mail.example.com")) == {templated, plain}
        assert await ids(client, tenant, subject="ly rep") == [plain]
        assert await ids(client, tenant, subject="100%") == [templated]
        assert await ids(client, tenant, category="weekly_digest") == [batched]
        assert await ids(client, tenant, category="news") == [batched]
        assert await ids(client, tenant, category="weekly") == []

    async def test_dates(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        early, day, late = await send_sandbox(client, tenant, "a@example.org", "b@example.org", "c@example.org")
        await set_message(app.state.resources.maker, early, created_at=datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
        await set_message(app.state.resources.maker, day, created_at=datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))
        await set_message(app.state.resources.maker, late, created_at=datetime(2026, 3, 11, 0, 0, tzinfo=UTC))
        assert await ids(client, tenant, start_date="2026-03-10", end_date="2026-03-10") == [day]
        assert await ids(client, tenant, start_date="2026-03-10") == [late, day]
        assert await ids(client, tenant, end_date="2026-03-10") == [day, early]
        assert await ids(client, tenant, start_date="2026-03-09T23:59:00Z", end_date="2026-03-11T00:00:00Z") == [
            late,
            day,
            early,
        ]
        assert await ids(client, tenant, start_date="2026-03-11T01:00:00+02:00") == [late, day]
        assert await ids(client, tenant, end_date="2026-03-10T23:59:58") == [early]

    async def test_any_mail_key_of_the_tenant_reads(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        """D48: any of mail.send, mail.schedule, mail.cancel reads; a key without scopes reads nothing."""
        [message_id] = await send_sandbox(client, tenant)
        key = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.schedule"])
        assert await ids(client, key) == [message_id]
        assert (await client.get(f"/v3/messages/{message_id}", headers=key.headers)).status_code == 200
        empty = await make_key(app.state.resources.maker, tenant.tenant_id, [])
        assert (await client.get(f"/v3/messages/{message_id}", headers=empty.headers)).status_code == 403
        assert (await client.get("/v3/messages")).status_code == 401


class TestRequestId:
    """D55: each message shows the X-Request-ID of the send that created it, and the list filters by it."""

    async def test_shown_and_filtered_within_the_tenant(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        body = sandbox(send_body("a@example.org", "b@example.org"))
        response = await client.post(
            "/v3/mail/send", headers={**tenant.headers, "X-Request-ID": "client-req-7"}, json=body
        )
        assert response.status_code == 202
        assert response.headers["x-request-id"] == "client-req-7"
        first, second = response.json()["message_ids"]
        [unrelated] = await send_sandbox(client, tenant)
        foreign = await client.post(
            "/v3/mail/send", headers={**other_tenant.headers, "X-Request-ID": "client-req-7"}, json=body
        )
        assert foreign.status_code == 202

        assert sorted(await ids(client, tenant, request_id="client-req-7")) == sorted([first, second])
        assert await ids(client, tenant, request_id="client-req") == []
        detail = (await client.get(f"/v3/messages/{first}", headers=tenant.headers)).json()
        assert detail["request_id"] == "client-req-7"
        other = (await client.get(f"/v3/messages/{unrelated}", headers=tenant.headers)).json()["request_id"]
        assert other not in (None, "client-req-7")
        assert await ids(client, tenant, request_id=other) == [unrelated]


class TestDetail:
    async def test_everything_about_one_message(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        body = send_body(
            personalizations=[
                {
                    "to": [{"email": "a@example.org"}],
                    "cc": [{"email": "c@example.org"}],
                    "bcc": [{"email": "b@example.org"}],
                    "headers": {"X-Person": "1"},
                    "custom_args": {"user": "42"},
                }
            ],
            headers={"X-Campaign": "spring"},
            reply_to={"email": "help@example.org"},
            attachments=[{"content": "aGVsbG8=", "filename": "hello.txt", "type": "text/plain"}],
            tracking_settings={"click_tracking": {"enable": False}},
            custom_args={"campaign": "spring"},
        )
        [message_id] = await send(client, tenant, sandbox(body))
        row = await message_row(maker, message_id)
        await set_message(maker, message_id, error_message="boom", attempts=2, last_response="451 4.7.1 later")
        delivered = await add_event(maker, row, "delivered", T0 + timedelta(minutes=5), response="250 ok")
        processed = await add_event(maker, row, "processed", T0)

        response = await client.get(f"/v3/messages/{message_id}", headers=tenant.headers)
        assert response.status_code == 200
        detail = response.json()
        assert (detail["id"], detail["status"], detail["sandbox"]) == (message_id, "sandbox", True)
        assert (detail["to_emails"], detail["cc"], detail["bcc"]) == (
            ["a@example.org"],
            ["c@example.org"],
            ["b@example.org"],
        )
        assert detail["headers"] == {"X-Campaign": "spring", "X-Person": "1"}
        assert detail["custom_args"] == {"campaign": "spring", "user": "42"}
        assert detail["reply_to"] == {"email": "help@example.org"}
        assert detail["content"] == body["content"]
        assert detail["attachments"] == [
            {"filename": "hello.txt", "type": "text/plain", "disposition": "attachment", "content_id": None, "size": 8}
        ]
        assert detail["tracking_settings"] == {"click_tracking": {"enable": False}}
        assert detail["mail_settings"] == {"sandbox_mode": {"enable": True}}
        assert detail["personalization"]["to"] == [{"email": "a@example.org"}]
        assert (detail["error_message"], detail["attempts"], detail["last_response"]) == ("boom", 2, "451 4.7.1 later")
        assert detail["events"] == [
            {
                "event_id": processed,
                "event_type": "processed",
                "timestamp": int(T0.timestamp()),
                "recipient_email": "a@example.org",
                "metadata": {},
            },
            {
                "event_id": delivered,
                "event_type": "delivered",
                "timestamp": int(T0.timestamp()) + 300,
                "recipient_email": "a@example.org",
                "metadata": {"response": "250 ok"},
            },
        ]

    async def test_unknown_and_foreign_are_404(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        [message_id] = await send_sandbox(client, other_tenant)
        for path in ("msg_unknown", message_id):
            response = await client.get(f"/v3/messages/{path}", headers=tenant.headers)
            assert (response.status_code, response.json()) == (404, {"detail": f"Message not found: {path}"})


async def in_status(app: FastAPI, client: httpx.AsyncClient, owner: TenantKey, status: str) -> str:
    [message_id] = await send_sandbox(client, owner)
    await set_message(
        app.state.resources.maker,
        message_id,
        status=status,
        sandbox=False,
        error_message="SMTP said no" if status in ("failed", "bounced") else None,
    )
    return message_id


class TestCancel:
    @pytest.mark.parametrize("status", ["queued", "processing"])
    async def test_from_queued_or_processing(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, status: str
    ) -> None:
        message_id = await in_status(app, client, tenant, status)
        response = await client.post(f"/v3/messages/{message_id}/cancel", headers=tenant.headers)
        assert (response.status_code, response.json()["status"]) == (200, "cancelled")
        assert (await message_row(app.state.resources.maker, message_id)).status == "cancelled"

    @pytest.mark.parametrize("status", ["rendered", "sending", "sent", "delivered", "failed", "cancelled", "sandbox"])
    async def test_later_is_409(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, status: str) -> None:
        message_id = await in_status(app, client, tenant, status)
        response = await client.post(f"/v3/messages/{message_id}/cancel", headers=tenant.headers)
        assert (response.status_code, response.json()) == (
            409,
            {"detail": f"Cannot cancel a message in status {status}"},
        )
        assert (await message_row(app.state.resources.maker, message_id)).status == status

    async def test_needs_mail_cancel(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        message_id = await in_status(app, client, tenant, "queued")
        key = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.send"])
        response = await client.post(f"/v3/messages/{message_id}/cancel", headers=key.headers)
        assert response.status_code == 403


class TestRetry:
    @pytest.mark.parametrize("status", ["processing", "sending", "failed", "bounced"])
    async def test_requeues_with_a_new_job(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, redis: Redis, status: str
    ) -> None:
        message_id = await in_status(app, client, tenant, status)
        first = await client.post(f"/v3/messages/{message_id}/retry", headers=tenant.headers)
        assert first.status_code == 200
        assert (first.json()["status"], first.json()["error_message"]) == ("queued", None)
        await set_message(app.state.resources.maker, message_id, status=status)
        assert (await client.post(f"/v3/messages/{message_id}/retry", headers=tenant.headers)).status_code == 200
        queue = [j.decode() for j in await redis.zrange(app.state.resources.queues.email_process, 0, -1)]
        jobs = [j for j in queue if j.startswith(f"process_email:{message_id}:retry-")]
        assert len(jobs) == 2
        # D55: the retried message's lines keep naming the request that sent it, not the retry request
        sent_by = (await client.get(f"/v3/messages/{message_id}", headers=tenant.headers)).json()["request_id"]
        pool = await app.state.resources.arq_pool()
        job = await Job(
            jobs[0], pool, _queue_name=app.state.resources.queues.email_process, _deserializer=pool.job_deserializer
        ).info()
        assert job is not None
        assert job.kwargs["correlation"]["request_id"] == sent_by
        assert job.kwargs["correlation"]["message_id"] == message_id

    @pytest.mark.parametrize("status", ["queued", "rendered", "sent", "delivered", "cancelled", "sandbox"])
    async def test_other_states_are_400(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, status: str
    ) -> None:
        message_id = await in_status(app, client, tenant, status)
        response = await client.post(f"/v3/messages/{message_id}/retry", headers=tenant.headers)
        assert (response.status_code, response.json()) == (
            400,
            {"detail": f"Cannot retry a message in status {status}"},
        )

    async def test_needs_mail_send(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        message_id = await in_status(app, client, tenant, "failed")
        key = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.cancel"])
        assert (await client.post(f"/v3/messages/{message_id}/retry", headers=key.headers)).status_code == 403


class TestFail:
    @pytest.mark.parametrize("status", ["queued", "processing", "rendered", "sending"])
    async def test_marks_failed(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, status: str) -> None:
        message_id = await in_status(app, client, tenant, status)
        response = await client.post(f"/v3/messages/{message_id}/fail", headers=tenant.headers)
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["error_message"]) == ("failed", "Marked failed by user")
        assert (await message_row(app.state.resources.maker, message_id)).status == MessageStatus.FAILED

    @pytest.mark.parametrize("status", ["sent", "delivered", "bounced", "failed", "cancelled", "sandbox"])
    async def test_final_states_are_400(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, status: str
    ) -> None:
        message_id = await in_status(app, client, tenant, status)
        response = await client.post(f"/v3/messages/{message_id}/fail", headers=tenant.headers)
        assert response.status_code == 400
        assert (await message_row(app.state.resources.maker, message_id)).status == status
