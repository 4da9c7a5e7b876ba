"""From ``POST /v3/mail/send`` to the receiver: the compose job records ``processed`` through the recorder, the
fan-out writes the delivery, the job's unit of work (``job_unit_of_work``) queues it after its commit and
``deliver_webhook`` POSTs the signed envelope. Sandbox sends reach no webhook (spec §4.5)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from scaisend.compose.tasks import process_email
from scaisend.webhooks.dispatch import job_id
from scaisend.webhooks.signing import verify_signature
from scaisend.webhooks.tasks import deliver_webhook
from tests.factories.messages import make_sender_domain, send, send_body, send_sandbox
from tests.factories.tenants import TenantKey
from tests.factories.webhooks import deliveries, make_endpoint
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
