"""From ``POST /v3/mail/send`` to the receiver: the compose job records ``processed`` through the recorder, the
fan-out writes the delivery, the job's unit of work (``job_unit_of_work``) queues it after its commit and
``deliver_webhook`` POSTs the signed envelope. Sandbox sends reach no webhook (docs/sending.md)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from scaisend.compose.tasks import process_email
from scaisend.queues import deliver_webhook_job_id as job_id
from scaisend.webhooks.signing import verify_signature
from scaisend.webhooks.tasks import deliver_webhook, flush_event_webhooks
from tests.factories.messages import make_sender_domain, send, send_body, send_sandbox
from tests.factories.tenants import TenantKey
from tests.factories.webhooks import deliveries, make_endpoint, make_event_webhook
from tests.harness.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import clear_queue, queued_jobs


async def clear_mail_queues(ctx: dict[str, Any]) -> None:
    for queue in (ctx["queues"].email_process, ctx["queues"].smtp_deliver):
        await clear_queue(ctx["redis"], queue)


class TestPipeline:
    async def test_a_sent_message_reaches_the_endpoint(
        self, ctx: dict[str, Any], app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        await make_sender_domain(app.state.resources.maker, tenant.tenant_id)
        _, secret = await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url(), ["processed"])
        try:
            [message_id] = await send(
                client, tenant, send_body("rcpt@example.org", categories=["welcome"], custom_args={"order": "42"})
            )
            assert await process_email(ctx, message_id) == "rendered"
        finally:
            await clear_mail_queues(ctx)
        [row] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert job_id(row.id, 1) in await queued_jobs(ctx)
        assert await deliver_webhook(ctx, row.id) == "succeeded"
        [post] = receiver.posts()
        body = post.json()
        assert (body["event_type"], body["message_id"], body["recipient_email"]) == (
            "processed",
            message_id,
            "rcpt@example.org",
        )
        assert (body["categories"], body["custom_args"]) == (["welcome"], {"order": "42"})
        assert verify_signature(secret, post.headers["X-ScaiSend-Signature"], post.body, ctx["clock"].now())

    async def test_each_recipient_gets_its_own_processed_event(
        self, ctx: dict[str, Any], app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        """D5 revised, as SendGrid sends them: one ``processed`` per recipient (to, cc and bcc), to the endpoint
        webhook (one POST each) and in the SendGrid Event Webhook batch (``email`` = that recipient)."""
        await make_sender_domain(app.state.resources.maker, tenant.tenant_id)
        await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url(), ["processed"])
        await make_event_webhook(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"))
        person = {
            "to": [{"email": "to@example.org"}],
            "cc": [{"email": "cc@example.org"}],
            "bcc": [{"email": "bcc@example.org"}],
        }
        try:
            [message_id] = await send(client, tenant, send_body(personalizations=[person]))
            assert await process_email(ctx, message_id) == "rendered"
        finally:
            await clear_mail_queues(ctx)
        assert await flush_event_webhooks(ctx) >= 1
        for row in await deliveries(ctx["maker"], tenant.tenant_id):
            assert await deliver_webhook(ctx, row.id) == "succeeded"
        recipients = {"to@example.org", "cc@example.org", "bcc@example.org"}
        endpoint = [post.json() for post in receiver.posts("/hook")]
        assert sorted(body["recipient_email"] for body in endpoint) == sorted(recipients)
        assert {(body["event_type"], body["message_id"]) for body in endpoint} == {("processed", message_id)}
        assert len({body["event_id"] for body in endpoint}) == 3
        [batch] = [post.json() for post in receiver.posts("/sg")]
        assert sorted(event["email"] for event in batch) == sorted(recipients)
        assert {(event["event"], event["sg_message_id"]) for event in batch} == {("processed", message_id)}

    async def test_sandbox_sends_reach_no_webhook(
        self, ctx: dict[str, Any], app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        await make_sender_domain(app.state.resources.maker, tenant.tenant_id)
        await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url())
        try:
            await send_sandbox(client, tenant, "rcpt@example.org")
        finally:
            await clear_mail_queues(ctx)
        assert await deliveries(ctx["maker"], tenant.tenant_id) == []
