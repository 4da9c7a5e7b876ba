"""The compose job end to end on MariaDB + Redis: status transitions, events, stored MIME and the delivery job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Retry, func
from fastapi import FastAPI
from prometheus_client import REGISTRY
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.compose.tasks import Outcome, process_email
from scaisend.db.session import unit_of_work
from scaisend.metrics import PROCESSED_RECIPIENTS_SPEC, RENDER_ERRORS_SPEC, WORKER_JOBS_SPEC
from scaisend.models import ALL_CATEGORIES, DailyStat, Message, MessageStatus
from scaisend.workers.context import serve_queues
from scaisend.workers.job_logging import wrap_functions
from scaisend.workers.queue_rebuild import requeue_worker_stages
from tests.compose.pipeline import body_of, delivery_job_args, delivery_jobs, events, message_row, parsed_mime
from tests.factories.compose import (
    add_suppression,
    make_message,
    make_template,
    personalization,
    send_body,
    set_tenant_tracking,
)
from tests.factories.messages import create_template, make_sender_domain, send
from tests.factories.messages import send_body as messages_send_body
from tests.factories.tenants import TenantKey
from tests.factories.webhooks import deliveries, make_endpoint


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def requeue_for_rerun(maker: async_sessionmaker[AsyncSession], message_id: str) -> None:
    """Put a composed message back to ``queued``, as a user's retry does, so the job composes it again."""
    async with unit_of_work(maker) as session:
        await session.execute(update(Message).where(Message.id == message_id).values(status="queued"))


async def stats_today(maker: async_sessionmaker[AsyncSession], tenant_id: str) -> dict[str, int]:
    async with unit_of_work(maker) as session:
        row = await session.scalar(
            select(DailyStat).where(DailyStat.tenant_id == tenant_id, DailyStat.category == ALL_CATEGORIES)
        )
    assert row is not None
    return {name: getattr(row, name) for name in ("requests", "processed", "unsubscribe_drops")}


class TestProcessEmail:
    async def test_content_send_is_rendered_stored_and_handed_to_delivery(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id)

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        row = await message_row(compose_ctx, message_id)
        assert row.status == MessageStatus.RENDERED
        assert row.processed_at is not None
        assert await events(compose_ctx, message_id) == [("processed", "rcpt@example.test", {})]
        msg = await parsed_mime(compose_ctx, message_id)
        assert msg["Subject"] == "Hello"
        assert msg["X-ScaiSend-Message-Id"] == message_id
        job_id = f"deliver_message:{message_id}:1"
        assert job_id in await delivery_jobs(compose_ctx)
        assert await delivery_job_args(compose_ctx, job_id) == ("deliver_message", (message_id, 1))

    async def test_running_twice_records_processed_once_and_one_delivery_job(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id)
        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED
        assert await process_email(compose_ctx, message_id) == Outcome.ALREADY_RENDERED

        assert [e[0] for e in await events(compose_ctx, message_id)] == ["processed"]
        assert (await delivery_jobs(compose_ctx)).count(f"deliver_message:{message_id}:1") == 1

    async def test_message_retried_after_delivery_attempts_continues_the_attempt_count(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        message_id = await make_message(maker, tenant.tenant_id)
        async with unit_of_work(maker) as session:
            await session.execute(update(Message).where(Message.id == message_id).values(attempts=2))

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        assert await delivery_jobs(compose_ctx) == [f"deliver_message:{message_id}:3"]
        assert await delivery_job_args(compose_ctx, f"deliver_message:{message_id}:3") == (
            "deliver_message",
            (message_id, 3),
        )

    async def test_rendered_message_waiting_for_a_delivery_retry_is_left_alone(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        message_id = await make_message(maker, tenant.tenant_id, status=MessageStatus.RENDERED.value)
        async with unit_of_work(maker) as session:
            await session.execute(update(Message).where(Message.id == message_id).values(attempts=1))

        assert await process_email(compose_ctx, message_id) == Outcome.SKIPPED
        assert await delivery_jobs(compose_ctx) == []

    @pytest.mark.parametrize("status", [MessageStatus.CANCELLED, MessageStatus.SENDING, MessageStatus.FAILED])
    async def test_message_not_queued_is_left_alone(
        self, compose_ctx: dict[str, Any], tenant: TenantKey, status: MessageStatus
    ) -> None:
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id, status=status.value)

        assert await process_email(compose_ctx, message_id) == Outcome.SKIPPED

        assert (await message_row(compose_ctx, message_id)).status == status
        assert await events(compose_ctx, message_id) == []
        assert f"deliver_message:{message_id}:1" not in await delivery_jobs(compose_ctx)

    async def test_unknown_message_is_reported_not_raised(self, compose_ctx: dict[str, Any]) -> None:
        assert await process_email(compose_ctx, "msg_doesnotexist") == Outcome.NOT_FOUND

    async def test_burst_worker_runs_the_registered_job(self, compose_ctx: dict[str, Any], tenant: TenantKey) -> None:
        settings, queues = compose_ctx["settings"], compose_ctx["queues"]
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id)
        await compose_ctx["redis"].enqueue_job(
            "process_email", message_id, _queue_name=queues.email_process, _job_id=f"process_email:{message_id}"
        )

        await serve_queues(settings, {queues.email_process: [func(process_email, name="process_email")]}, burst=True)

        assert (await message_row(compose_ctx, message_id)).status == MessageStatus.RENDERED
        assert f"deliver_message:{message_id}:1" in await delivery_jobs(compose_ctx)


class TestErrors:
    async def test_lost_delivery_hand_off_is_repaired_by_the_retry(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id)
        unreachable = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
        retries_before = counter(WORKER_JOBS_SPEC.name, queue="email:process", outcome="retry")

        registered = wrap_functions([func(process_email, name="process_email")], "email:process")[0].coroutine
        with pytest.raises(Retry) as retry:  # arq runs the job again after 2 s x its try number
            await registered({**compose_ctx, "redis": unreachable, "job_try": 2}, message_id)
        await unreachable.aclose()
        assert isinstance(retry.value.__cause__, RedisError)
        assert retry.value.defer_score == 4000

        assert (await message_row(compose_ctx, message_id)).status == MessageStatus.RENDERED
        assert f"deliver_message:{message_id}:1" not in await delivery_jobs(compose_ctx)
        assert counter(WORKER_JOBS_SPEC.name, queue="email:process", outcome="retry") == retries_before + 1
        assert await process_email(compose_ctx, message_id) == Outcome.ALREADY_RENDERED
        assert f"deliver_message:{message_id}:1" in await delivery_jobs(compose_ctx)
        assert [e[0] for e in await events(compose_ctx, message_id)] == ["processed"]

    async def test_unexpected_error_fails_the_message_instead_of_retrying(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        body = send_body(headers=["not", "a", "mapping"])
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id, body=body)

        assert await process_email(compose_ctx, message_id) == Outcome.FAILED

        row = await message_row(compose_ctx, message_id)
        assert row.status == MessageStatus.FAILED
        assert row.error_message == "Internal error while composing: 'list' object has no attribute 'items'"
        assert await events(compose_ctx, message_id) == []


class TestRequeueStaleMessages:
    async def test_message_left_queued_gets_its_job_again_once(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker, queue = compose_ctx["maker"], compose_ctx["queues"].email_process
        stale = await make_message(maker, tenant.tenant_id)
        fresh = await make_message(maker, tenant.tenant_id)
        async with unit_of_work(maker) as session:
            await session.execute(
                update(Message).where(Message.id == stale).values(updated_at=datetime.now(UTC) - timedelta(minutes=10))
            )

        assert await requeue_worker_stages(compose_ctx, timedelta(minutes=5)) >= 1  # type: ignore[arg-type]
        await requeue_worker_stages(compose_ctx, timedelta(minutes=5))  # type: ignore[arg-type]

        waiting = [j.decode() for j in await compose_ctx["redis"].zrange(queue, 0, -1)]
        assert waiting.count(f"process_email:{stale}") == 1
        assert f"process_email:{fresh}" not in waiting


class TestWebhooks:
    async def test_recorded_events_are_queued_for_webhooks_after_commit(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        await make_endpoint(
            maker, compose_ctx["settings"], tenant.tenant_id, "http://127.0.0.1:9/hook", ["processed", "dropped"]
        )
        await add_suppression(maker, tenant.tenant_id, "gone@example.test", "spam_report")
        message_id = await make_message(
            maker, tenant.tenant_id, personalization_=personalization("ok@example.test", "gone@example.test")
        )

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        rows = await deliveries(maker, tenant.tenant_id)
        assert sorted(row.payload["event_type"] for row in rows) == ["dropped", "processed"]
        waiting = {j.decode() for j in await compose_ctx["redis"].zrange(compose_ctx["queues"].webhook_deliver, 0, -1)}
        assert waiting == {f"deliver_webhook:{row.id}:1" for row in rows}


class TestSuppressions:
    async def test_suppressed_recipient_is_dropped_and_the_rest_is_sent(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        await add_suppression(maker, tenant.tenant_id, "gone@example.test", "bounce")
        message_id = await make_message(
            maker,
            tenant.tenant_id,
            body=send_body(categories=["news"]),
            personalization_=personalization("Gone@Example.test", "ok@example.test"),
        )

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        assert await events(compose_ctx, message_id) == [
            ("dropped", "Gone@Example.test", {"reason": "suppressed_bounce"}),
            ("processed", "ok@example.test", {}),
        ]
        msg = await parsed_mime(compose_ctx, message_id)
        assert msg["To"] == "ok@example.test"

    async def test_every_recipient_kept_gets_one_processed_and_requests_count_recipients(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        """D5 revised: to, cc and bcc each get their own ``processed`` (once, however often the job runs); the
        suppressed cc gets ``dropped`` instead, so ``requests`` = 5 recipients = 4 processed + 1 drop."""
        maker = compose_ctx["maker"]
        await add_suppression(maker, tenant.tenant_id, "gone@example.test", "unsubscribe")
        message_id = await make_message(
            maker,
            tenant.tenant_id,
            personalization_=personalization(
                "a@example.test",
                "b@example.test",
                cc=[{"email": "c@example.test"}, {"email": "gone@example.test"}],
                bcc=[{"email": "d@example.test"}, {"email": "A@example.test"}],
            ),
        )
        before = counter(PROCESSED_RECIPIENTS_SPEC.name)

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED
        await requeue_for_rerun(maker, message_id)
        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        assert sorted(await events(compose_ctx, message_id)) == [
            ("dropped", "gone@example.test", {"reason": "suppressed_unsubscribe"}),
            ("processed", "a@example.test", {}),
            ("processed", "b@example.test", {}),
            ("processed", "c@example.test", {}),
            ("processed", "d@example.test", {}),
        ]
        assert counter(PROCESSED_RECIPIENTS_SPEC.name) == before + 4
        today = await stats_today(maker, tenant.tenant_id)
        assert (today["requests"], today["processed"], today["unsubscribe_drops"]) == (5, 4, 1)

    @pytest.mark.parametrize(
        ("kind", "reason"),
        [
            ("bounce", "suppressed_bounce"),
            ("spam_report", "suppressed_spam"),
            ("unsubscribe", "suppressed_unsubscribe"),
        ],
    )
    async def test_all_recipients_suppressed_ends_failed_without_processed(
        self, compose_ctx: dict[str, Any], tenant: TenantKey, kind: str, reason: str
    ) -> None:
        maker = compose_ctx["maker"]
        await add_suppression(maker, tenant.tenant_id, "blocked@example.test", kind)
        message_id = await make_message(
            maker, tenant.tenant_id, personalization_=personalization("blocked@example.test")
        )

        assert await process_email(compose_ctx, message_id) == Outcome.ALL_DROPPED
        assert await process_email(compose_ctx, message_id) == Outcome.SKIPPED

        row = await message_row(compose_ctx, message_id)
        assert (row.status, row.error_message) == (MessageStatus.FAILED, "All recipients suppressed")
        assert await events(compose_ctx, message_id) == [("dropped", "blocked@example.test", {"reason": reason})]
        assert f"deliver_message:{message_id}:1" not in await delivery_jobs(compose_ctx)

    @pytest.mark.parametrize(
        ("kind", "bypass"),
        [
            ("bounce", "bypass_bounce_management"),
            ("bounce", "bypass_list_management"),
            ("spam_report", "bypass_spam_management"),
            ("unsubscribe", "bypass_unsubscribe_management"),
            ("unsubscribe", "bypass_list_management"),
        ],
    )
    async def test_bypass_flag_sends_anyway(
        self, compose_ctx: dict[str, Any], tenant: TenantKey, kind: str, bypass: str
    ) -> None:
        maker = compose_ctx["maker"]
        await add_suppression(maker, tenant.tenant_id, "listed@example.test", kind)
        body = send_body(mail_settings={bypass: {"enable": True}})
        message_id = await make_message(
            maker, tenant.tenant_id, body=body, personalization_=personalization("listed@example.test")
        )

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED
        assert [e[0] for e in await events(compose_ctx, message_id)] == ["processed"]


class TestRenderFailures:
    async def test_broken_template_fails_the_message_with_the_reason(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        template_id = await make_template(maker, tenant.tenant_id, html="<p>{{#if x}}never closed</p>")
        message_id = await make_message(maker, tenant.tenant_id, body=send_body(content=None, template_id=template_id))
        errors_before = counter(RENDER_ERRORS_SPEC.name)

        assert await process_email(compose_ctx, message_id) == Outcome.FAILED

        row = await message_row(compose_ctx, message_id)
        assert row.status == MessageStatus.FAILED
        assert row.error_message is not None
        assert row.error_message.startswith("Template render error: html:")
        assert counter(RENDER_ERRORS_SPEC.name) == errors_before + 1
        assert f"deliver_message:{message_id}:1" not in await delivery_jobs(compose_ctx)

    async def test_missing_template_fails_the_message(self, compose_ctx: dict[str, Any], tenant: TenantKey) -> None:
        body = send_body(content=None, template_id="d-00000000000000000000000000000000")
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id, body=body)

        assert await process_email(compose_ctx, message_id) == Outcome.FAILED
        row = await message_row(compose_ctx, message_id)
        assert row.error_message == "Template d-00000000000000000000000000000000 not found or has no active version"

    async def test_undecodable_attachment_fails_the_message(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        body = send_body(attachments=[{"content": "not base64!!", "filename": "x.bin"}])
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id, body=body)

        assert await process_email(compose_ctx, message_id) == Outcome.FAILED
        row = await message_row(compose_ctx, message_id)
        assert row.error_message == "attachments[0].content is not valid base64"


class TestTemplates:
    async def test_dynamic_template_renders_subject_html_text_and_preheader(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        template_id = await make_template(
            maker,
            tenant.tenant_id,
            subject="Hi {{name}}",
            preheader="Your {{thing}} & more",
            html="<html><body><p>Dear {{name}}, your {{thing}}.</p></body></html>",
        )
        person = personalization("ada@example.test", dynamic_template_data={"name": "Ada", "thing": "<order>"})
        message_id = await make_message(
            maker,
            tenant.tenant_id,
            body=send_body(content=None, subject=None, template_id=template_id),
            personalization_=person,
        )

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        msg = await parsed_mime(compose_ctx, message_id)
        assert msg["Subject"] == "Hi Ada"
        html = body_of(msg, "html")
        assert "Dear Ada, your &lt;order&gt;." in html
        assert "Your &lt;order&gt; &amp; more</span>" in html
        assert html.index("display:none") < html.index("Dear Ada")
        assert "Dear Ada, your <order>." in body_of(msg, "plain")

    async def test_template_send_shows_the_rendered_subject_in_the_messages_api(
        self, compose_ctx: dict[str, Any], app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        """Issue 16: a template send showed ``subject: null`` in ``/v3/messages``; it shows the rendered subject."""
        await make_sender_domain(app.state.resources.maker, tenant.tenant_id)
        template_id = await create_template(client, tenant, subject="Your order {{order}}")
        body = messages_send_body("ada@example.org", subject=None, content=None, template_id=template_id)
        body["personalizations"][0]["dynamic_template_data"] = {"order": "A-42"}
        [message_id] = await send(client, tenant, body)
        listed = await client.get("/v3/messages", headers=tenant.headers)
        assert [m["subject"] for m in listed.json()["messages"] if m["id"] == message_id] == [None]

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        detail = await client.get(f"/v3/messages/{message_id}", headers=tenant.headers)
        assert detail.status_code == 200, detail.text
        assert detail.json()["subject"] == "Your order A-42"
        listed = await client.get("/v3/messages", headers=tenant.headers, params={"subject": "A-42"})
        assert [m["subject"] for m in listed.json()["messages"]] == ["Your order A-42"]

    async def test_legacy_substitutions_apply_to_content_and_subject(
        self, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        body = send_body(subject="Order -num-", content=[{"type": "text/plain", "value": "Hello -name-"}])
        person = personalization(substitutions={"-name-": "Grace", "-num-": "42"})
        message_id = await make_message(compose_ctx["maker"], tenant.tenant_id, body=body, personalization_=person)

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED
        msg = await parsed_mime(compose_ctx, message_id)
        assert msg["Subject"] == "Order 42"
        assert body_of(msg, "plain").strip() == "Hello Grace"


class TestTrackingDefaults:
    async def test_tenant_defaults_apply_under_the_request_settings(
        self, app: FastAPI, compose_ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        maker = compose_ctx["maker"]
        await set_tenant_tracking(
            maker,
            tenant.tenant_id,
            open_tracking_enabled=False,
            subscription_tracking_enabled=True,
            ganalytics_enabled=True,
            utm_source="tenant",
        )
        body = send_body(
            tracking_settings={"click_tracking": {"enable": False}, "ganalytics": {"utm_campaign": "spring"}}
        )
        message_id = await make_message(maker, tenant.tenant_id, body=body)

        assert await process_email(compose_ctx, message_id) == Outcome.RENDERED

        msg = await parsed_mime(compose_ctx, message_id)
        html = body_of(msg, "html")
        assert "/t/o/" not in html
        assert "/t/c/" not in html
        assert 'href="https://example.com/welcome?x=1&amp;y=2&amp;utm_source=tenant&amp;utm_campaign=spring"' in html
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/t/u/" in body_of(msg, "plain")
