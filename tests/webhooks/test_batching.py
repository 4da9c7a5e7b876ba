"""The SendGrid Event Webhook end to end (D7): queued events are flushed into batched JSON arrays, POSTed with
SendGrid's ECDSA signature, and verified with the official sendgrid-python helper unchanged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sendgrid.helpers.eventwebhook import EventWebhook  # type: ignore[import-untyped]
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader  # type: ignore[import-untyped]

from scaisend.queues import deliver_webhook_job_id as job_id
from scaisend.webhooks.batching import split_batches
from scaisend.webhooks.outgoing import encode
from scaisend.webhooks.tasks import deliver_webhook, flush_event_webhooks
from tests.factories.tenants import TenantKey
from tests.factories.webhooks import deliveries, delivery, make_event_webhook, make_message, record
from tests.harness.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import queued_jobs


class TestSplitBatches:
    def test_by_count(self) -> None:
        events = [(f"evt_{i}", {"n": i}) for i in range(5)]
        assert [[e for e, _ in b] for b in split_batches(events, max_events=2)] == [
            ["evt_0", "evt_1"],
            ["evt_2", "evt_3"],
            ["evt_4"],
        ]

    def test_by_encoded_size(self) -> None:
        events = [(f"evt_{i}", {"pad": "x" * 90}) for i in range(10)]
        size = len(encode({"pad": "x" * 90}))
        batches = split_batches(events, max_bytes=3 * (size + 1) + 2)
        assert [len(b) for b in batches] == [3, 3, 3, 1]
        assert all(len(encode([e for _, e in b])) <= 3 * (size + 1) + 2 for b in batches)

    def test_an_oversized_event_travels_alone(self) -> None:
        events: list[tuple[str, dict[str, Any]]] = [
            ("evt_small", {"a": 1}),
            ("evt_big", {"pad": "x" * 500}),
            ("evt_small2", {"a": 2}),
        ]
        assert [[e for e, _ in b] for b in split_batches(events, max_bytes=100)] == [
            ["evt_small"],
            ["evt_big"],
            ["evt_small2"],
        ]


class TestEventWebhook:
    async def test_batched_signed_post_verified_by_the_official_helper(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        public_key = await make_event_webhook(
            ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"), signed=True
        )
        assert public_key
        message_id = await make_message(
            ctx["maker"], tenant.tenant_id, categories=["welcome"], custom_args={"order": "42"}, asm_group_id=3
        )
        now = ctx["clock"].now()
        kinds = [
            ("processed", {}),
            ("spam_report", {}),
            ("blocked", {"reason": "550 5.7.1 blocked", "status": "5.7.1", "bounce_classification": "Reputation"}),
        ]
        events = [
            await record(
                ctx["maker"],
                ctx["redis"],
                ctx["queues"],
                tenant.tenant_id,
                kind,
                now,
                message_id=message_id,
                metadata=metadata,
            )
            for kind, metadata in kinds
        ]
        assert await queued_jobs(ctx) == {}
        assert await flush_event_webhooks(ctx) >= 1
        [batch] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert (batch.status, batch.target, batch.event_ids) == (
            "pending",
            "event_webhook",
            [e.event_id for e in events],
        )
        assert job_id(batch.id, 1) in await queued_jobs(ctx)
        assert await deliver_webhook(ctx, batch.id) == "succeeded"
        [post] = receiver.posts("/sg")
        stamp = int(now.timestamp())
        common = {
            "email": "rcpt@example.test",
            "timestamp": stamp,
            "sg_message_id": message_id,
            "smtp-id": f"<{message_id}@mta.scaisend.test>",
            "category": "welcome",
            "order": "42",
            "asm_group_id": 3,
        }
        assert post.json() == [
            {**common, "event": "processed", "sg_event_id": events[0].event_id},
            {**common, "event": "spamreport", "sg_event_id": events[1].event_id},
            {
                **common,
                "event": "bounce",
                "sg_event_id": events[2].event_id,
                "type": "blocked",
                "reason": "550 5.7.1 blocked",
                "status": "5.7.1",
                "bounce_classification": "Reputation",
            },
        ]
        assert post.headers["Content-Type"] == "application/json"
        signature = post.headers[EventWebhookHeader.SIGNATURE]
        timestamp = post.headers[EventWebhookHeader.TIMESTAMP]
        assert timestamp == str(int(ctx["clock"].now().timestamp()))
        ew = EventWebhook()
        key = ew.convert_public_key_to_ecdsa(public_key)
        assert ew.verify_signature(post.text, signature, timestamp, key)
        assert not ew.verify_signature(post.text.replace("spamreport", "open"), signature, timestamp, key)
        assert (await delivery(ctx["maker"], batch.id)).status == "succeeded"

    async def test_unsigned_when_signing_is_off_and_oauth_when_configured(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        token_url = receiver.serve_token("/token", prefix="sg")
        await make_event_webhook(
            ctx["maker"],
            ctx["settings"],
            tenant.tenant_id,
            receiver.url("/sg"),
            oauth_client_id="cid",
            oauth_client_secret="csecret",
            oauth_token_url=token_url,
        )
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        await flush_event_webhooks(ctx)
        [batch] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert await deliver_webhook(ctx, batch.id) == "succeeded"
        [post] = receiver.posts("/sg")
        assert EventWebhookHeader.SIGNATURE not in post.headers
        assert post.headers["Authorization"] == "Bearer sg-1"
        assert receiver.token_requests()[0].form()["client_id"] == "cid"

    async def test_failures_follow_the_retry_schedule(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(500, 200)
        await make_event_webhook(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"))
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "delivered", ctx["clock"].now())
        await flush_event_webhooks(ctx)
        [batch] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert await deliver_webhook(ctx, batch.id) == "retry"
        row = await delivery(ctx["maker"], batch.id)
        assert (row.attempts, row.next_attempt_at) == (1, ctx["clock"].now() + timedelta(seconds=60))
        ctx["clock"].advance(60)
        assert await deliver_webhook(ctx, batch.id) == "succeeded"
        assert receiver.posts("/sg")[0].body == receiver.posts("/sg")[1].body

    async def test_events_queued_before_it_was_turned_off_are_dropped(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        await make_event_webhook(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"))
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        await make_event_webhook(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"), enabled=False)
        await flush_event_webhooks(ctx)
        assert await deliveries(ctx["maker"], tenant.tenant_id) == []
        assert receiver.posts() == []

    async def test_a_batch_for_a_disabled_event_webhook_fails(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        await make_event_webhook(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"))
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        await flush_event_webhooks(ctx)
        await make_event_webhook(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url("/sg"), enabled=False)
        [batch] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert await deliver_webhook(ctx, batch.id) == "target_disabled"
        row = await delivery(ctx["maker"], batch.id)
        assert (row.status, row.last_error) == ("failed", "Event Webhook disabled")
        assert receiver.posts() == []
