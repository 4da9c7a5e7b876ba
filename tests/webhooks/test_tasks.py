"""``deliver_webhook`` and the sweep (docs/webhooks.md, D6, D8): real POSTs to a loopback receiver, real MariaDB and
Redis; retries are driven by moving a ManualClock and running the job again, never by sleeping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from prometheus_client import REGISTRY

from scaisend.logs import correlated, trace_id_of
from scaisend.queues import deliver_webhook_job_id as job_id
from scaisend.webhooks.service import OAuthInput
from scaisend.webhooks.signing import verify_signature
from scaisend.webhooks.tasks import deliver_webhook, sweep_webhook_deliveries
from tests.factories.tenants import TenantKey
from tests.factories.webhooks import deliveries, delivery, endpoint, make_endpoint, make_message, record
from tests.harness.dns import LoopbackDNS
from tests.harness.json_logs import captured_json_logs, parse_lines
from tests.harness.webhook_receiver import Reply, WebhookReceiver, redirect
from tests.webhooks.conftest import clear_queue, queued_jobs, run_worker


async def one_delivery(
    ctx: dict[str, Any], tenant: TenantKey, url: str, event_type: str = "delivered", **oauth: Any
) -> tuple[str, str, str]:
    """An endpoint at ``url`` and one event for it; returns ``(endpoint id, secret, delivery id)``."""
    endpoint_id, secret = await make_endpoint(
        ctx["maker"], ctx["settings"], tenant.tenant_id, url, oauth=OAuthInput(**oauth) if oauth else None
    )
    await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, event_type, ctx["clock"].now())
    jobs = await queued_jobs(ctx)
    assert len(jobs) == 1
    return endpoint_id, secret, next(iter(jobs)).split(":")[1]


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def successes() -> float:
    return REGISTRY.get_sample_value("scaisend_webhook_deliveries_total", {"outcome": "success"}) or 0.0


class TestDelivery:
    async def test_the_receiver_gets_one_signed_envelope(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        endpoint_id, secret = await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url())
        message_id = await make_message(
            ctx["maker"], tenant.tenant_id, categories=["welcome"], custom_args={"order": "42"}
        )
        event = await record(
            ctx["maker"],
            ctx["redis"],
            ctx["queues"],
            tenant.tenant_id,
            "delivered",
            ctx["clock"].now(),
            message_id=message_id,
            metadata={"smtp_response": "250 2.0.0 OK"},
        )
        before = successes()
        assert await run_worker(ctx) == 1
        [post] = receiver.posts("/hook")
        assert post.json() == {
            "event_id": event.event_id,
            "event_type": "delivered",
            "timestamp": int(ctx["clock"].now().timestamp()),
            "message_id": message_id,
            "recipient_email": "rcpt@example.test",
            "tenant_id": tenant.tenant_id,
            "categories": ["welcome"],
            "custom_args": {"order": "42"},
            "metadata": {"smtp_response": "250 2.0.0 OK"},
        }
        assert post.headers["Content-Type"] == "application/json"
        assert post.headers["X-ScaiSend-Event-Id"] == event.event_id
        assert post.headers["X-ScaiSend-Event-Type"] == "delivered"
        signature = post.headers["X-ScaiSend-Signature"]
        assert signature.startswith(f"t={int(ctx['clock'].now().timestamp())},v1=")
        assert verify_signature(secret, signature, post.body, ctx["clock"].now())
        assert not verify_signature(secret, signature, post.body.replace(b"delivered", b"bounced"), ctx["clock"].now())
        assert successes() == before + 1
        [row] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("succeeded", 1, 200, None)
        assert row.delivered_at == ctx["clock"].now()
        health = await endpoint(ctx["maker"], endpoint_id)
        assert (health.failure_count, health.last_success_at) == (0, ctx["clock"].now())

    async def test_the_post_names_the_send_and_continues_its_trace(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        """D55, D57: ``X-Request-Id`` is the request id of the message's send (not of whoever recorded the event) and
        ``traceparent`` continues the trace the job carried, with a span id of its own."""
        await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url())
        message_id = await make_message(ctx["maker"], tenant.tenant_id, api_request_id="send-req-1")
        with correlated({"request_id": "tracking-hit-9", "trace_id": TRACE}, fresh=True):
            await record(
                ctx["maker"],
                ctx["redis"],
                ctx["queues"],
                tenant.tenant_id,
                "open",
                ctx["clock"].now(),
                message_id=message_id,
            )
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        with captured_json_logs("worker") as stream:
            assert await run_worker(ctx) == 2
        posts = {p.json()["message_id"]: p for p in receiver.posts("/hook")}
        traced = posts.pop(message_id)
        assert traced.headers["X-Request-Id"] == "send-req-1"
        assert trace_id_of(traced.headers["traceparent"]) == TRACE
        assert traced.headers["traceparent"].split("-")[2] != "0" * 16
        [untraced] = posts.values()  # an event of a message we have no row for: nothing to name
        assert "X-Request-Id" not in untraced.headers
        assert "traceparent" not in untraced.headers
        attempt = next(
            r
            for r in parse_lines(stream.getvalue())
            if r["message"] == "webhook attempt" and r.get("message_id") == message_id
        )
        assert (attempt["request_id"], attempt["tenant_id"], attempt["trace_id"]) == (
            "send-req-1",
            tenant.tenant_id,
            TRACE,
        )
        assert attempt["url_host"] == "127.0.0.1"

    async def test_rotation_signs_with_the_new_secret(
        self, ctx: dict[str, Any], client: httpx.AsyncClient, tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        endpoint_id, old, delivery_id = await one_delivery(ctx, tenant, receiver.url())
        rotated = await client.post(f"/v3/user/webhooks/{endpoint_id}/signing_secret", headers=tenant.headers)
        new = rotated.json()["signing_secret"]
        assert await deliver_webhook(ctx, delivery_id) == "succeeded"
        [post] = receiver.posts()
        assert verify_signature(new, post.headers["X-ScaiSend-Signature"], post.body, ctx["clock"].now())
        assert not verify_signature(old, post.headers["X-ScaiSend-Signature"], post.body, ctx["clock"].now())


async def deliveries_of(ctx: dict[str, Any], tenant: TenantKey) -> list[str]:
    return [r.id for r in await deliveries(ctx["maker"], tenant.tenant_id)]


class TestRetries:
    async def test_schedule_then_failed_after_six(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(500)
        _, _, delivery_id = await one_delivery(ctx, tenant, receiver.url())
        clock = ctx["clock"]
        for attempt, delay in enumerate((60, 300, 900, 3600, 7200), start=1):
            assert await deliver_webhook(ctx, delivery_id) == "retry"
            row = await delivery(ctx["maker"], delivery_id)
            due = clock.now() + timedelta(seconds=delay)
            assert (row.status, row.attempts, row.last_status_code, row.last_error) == (
                "pending",
                attempt,
                500,
                "HTTP 500",
            )
            assert row.next_attempt_at == due
            assert (await queued_jobs(ctx))[job_id(delivery_id, attempt + 1)] == due.timestamp() * 1000
            clock.advance(delay - 1)
            assert await deliver_webhook(ctx, delivery_id) == "not_due"
            clock.advance(1)
        assert await deliver_webhook(ctx, delivery_id) == "failed"
        row = await delivery(ctx["maker"], delivery_id)
        assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 6, None)
        assert len(receiver.posts()) == 6
        assert job_id(delivery_id, 7) not in await queued_jobs(ctx)
        assert await deliver_webhook(ctx, delivery_id) == "finished"

    async def test_a_recovering_receiver_gets_every_event(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(500, 502, 200)
        endpoint_id, _ = await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url())
        events = [
            await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, kind, ctx["clock"].now())
            for kind in ("processed", "delivered", "open")
        ]
        assert await run_worker(ctx) == 3
        ctx["clock"].advance(60)
        for delivery_id in await deliveries_of(ctx, tenant):
            await deliver_webhook(ctx, delivery_id)
        delivered = [p.headers["X-ScaiSend-Event-Id"] for p in receiver.posts()]
        assert len(delivered) == 5
        assert set(delivered) == {e.event_id for e in events}
        rows = [await delivery(ctx["maker"], d) for d in await deliveries_of(ctx, tenant)]
        assert {r.status for r in rows} == {"succeeded"}
        assert sorted(r.attempts for r in rows) == [1, 2, 2]
        health = await endpoint(ctx["maker"], endpoint_id)
        assert health.failure_count == 0
        assert health.last_failure_at is not None

    async def test_ten_consecutive_failures_disable_the_endpoint(
        self, ctx: dict[str, Any], client: httpx.AsyncClient, tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(503)
        endpoint_id, _ = await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url())
        for _ in range(12):
            await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        ids = await deliveries_of(ctx, tenant)
        outcomes = [await deliver_webhook(ctx, delivery_id) for delivery_id in ids]
        assert outcomes == ["retry"] * 9 + ["endpoint_disabled", "finished", "finished"]
        assert len(receiver.posts()) == 10
        shown = (await client.get(f"/v3/user/webhooks/{endpoint_id}", headers=tenant.headers)).json()
        assert (shown["enabled"], shown["failure_count"]) == (False, 10)
        assert shown["disabled_at"] is not None
        rows = [await delivery(ctx["maker"], d) for d in ids]
        assert {r.status for r in rows} == {"failed"}
        assert rows[9].last_error == "HTTP 503; endpoint disabled after 10 consecutive failures"
        assert rows[11].last_error == "endpoint disabled after 10 consecutive failures"
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        assert len(await deliveries_of(ctx, tenant)) == 12  # a disabled endpoint gets no new deliveries
        reenabled = await client.patch(
            f"/v3/user/webhooks/{endpoint_id}", headers=tenant.headers, json={"enabled": True}
        )
        assert (reenabled.json()["enabled"], reenabled.json()["failure_count"]) == (True, 0)
        receiver.respond(200)
        await clear_queue(ctx["redis"], ctx["queues"].webhook_deliver)
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "click", ctx["clock"].now())
        assert await run_worker(ctx) == 1
        assert receiver.posts()[-1].headers["X-ScaiSend-Event-Type"] == "click"

    async def test_success_resets_the_consecutive_count(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(500, 500, 200, 500)
        endpoint_id, _ = await make_endpoint(ctx["maker"], ctx["settings"], tenant.tenant_id, receiver.url())
        for _ in range(4):
            await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        for delivery_id in await deliveries_of(ctx, tenant):
            await deliver_webhook(ctx, delivery_id)
        assert (await endpoint(ctx["maker"], endpoint_id)).failure_count == 1


class TestFailures:
    async def test_redirects_are_not_followed(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(redirect(receiver.url("/elsewhere"), 307), path="/hook")
        _, _, delivery_id = await one_delivery(ctx, tenant, receiver.url("/hook"))
        assert await deliver_webhook(ctx, delivery_id) == "retry"
        row = await delivery(ctx["maker"], delivery_id)
        assert row.last_status_code == 307
        assert row.last_error == f"HTTP 307: redirect to {receiver.url('/elsewhere')} not followed"
        assert receiver.posts("/elsewhere") == []

    async def test_no_answer_within_the_timeout_is_a_failure(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(Reply(200, delay=1.5))
        _, _, delivery_id = await one_delivery(ctx, tenant, receiver.url())
        quick = {**ctx, "settings": ctx["settings"].model_copy(update={"WEBHOOK_TIMEOUT": "0.3s"})}
        assert await deliver_webhook(quick, delivery_id) == "retry"
        row = await delivery(ctx["maker"], delivery_id)
        assert (row.last_status_code, row.last_error) == (None, "no answer within 0.3 s")

    async def test_a_closed_port_is_a_failure(self, ctx: dict[str, Any], tenant: TenantKey) -> None:
        _, _, delivery_id = await one_delivery(ctx, tenant, "http://127.0.0.1:9/hook")
        assert await deliver_webhook(ctx, delivery_id) == "retry"
        assert "ConnectError" in ((await delivery(ctx["maker"], delivery_id)).last_error or "")

    async def test_private_destinations_are_refused_at_delivery_time(
        self,
        ctx: dict[str, Any],
        tenant: TenantKey,
        other_tenant: TenantKey,
        receiver: WebhookReceiver,
        dns: LoopbackDNS,
    ) -> None:
        dns.add_a("hooks.example.test", "127.0.0.1")  # was public when saved; DNS now points inside
        strict = {
            **ctx,
            "settings": ctx["settings"].model_copy(
                update={"WEBHOOK_ALLOW_PRIVATE_NETWORKS": False, "DNS_NAMESERVERS": dns.nameserver_setting}
            ),
        }
        _, _, by_name = await one_delivery(ctx, tenant, f"http://hooks.example.test:{receiver.port}/hook")
        assert await deliver_webhook(strict, by_name) == "retry"
        assert (await delivery(ctx["maker"], by_name)).last_error == (
            "Webhook URL points at a non-public address (127.0.0.1: loopback)"
        )
        await clear_queue(ctx["redis"], ctx["queues"].webhook_deliver)
        _, _, by_ip = await one_delivery(ctx, other_tenant, receiver.url())
        assert await deliver_webhook(strict, by_ip) == "retry"
        assert receiver.posts() == []
        ctx["clock"].advance(60)
        assert await deliver_webhook(ctx, by_ip) == "succeeded"  # WEBHOOK_ALLOW_PRIVATE_NETWORKS=true


class TestOAuth:
    async def test_token_is_fetched_cached_and_refreshed_after_401(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        token_url = receiver.serve_token("/oauth/token", expires_in=3600)
        receiver.respond(200, 200, 401, 200, path="/hook")
        endpoint_id, _ = await make_endpoint(
            ctx["maker"],
            ctx["settings"],
            tenant.tenant_id,
            receiver.url(),
            oauth=OAuthInput("client-1", "s3cret", token_url),
        )
        for _ in range(3):
            await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        ids = await deliveries_of(ctx, tenant)
        assert [await deliver_webhook(ctx, d) for d in ids] == ["succeeded", "succeeded", "retry"]
        [token_request] = receiver.token_requests()
        assert token_request.form() == {
            "grant_type": "client_credentials",
            "client_id": "client-1",
            "client_secret": "s3cret",
        }
        assert [p.headers["Authorization"] for p in receiver.posts("/hook")] == ["Bearer tok-1"] * 3
        ctx["clock"].advance(60)
        assert await deliver_webhook(ctx, ids[2]) == "succeeded"
        assert receiver.posts("/hook")[-1].headers["Authorization"] == "Bearer tok-2"
        assert len(receiver.token_requests()) == 2
        assert endpoint_id

    async def test_a_failing_token_endpoint_fails_the_attempt(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(500, path="/oauth/token")
        _, _, delivery_id = await one_delivery(
            ctx, tenant, receiver.url(), client_id="c", client_secret="s", token_url=receiver.url("/oauth/token")
        )
        assert await deliver_webhook(ctx, delivery_id) == "retry"
        assert (await delivery(ctx["maker"], delivery_id)).last_error == "OAuth token endpoint answered HTTP 500"
        assert receiver.posts("/hook") == []


class TestSweep:
    async def test_requeues_a_delivery_whose_job_was_lost(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        _, _, delivery_id = await one_delivery(ctx, tenant, receiver.url())
        await clear_queue(ctx["redis"], ctx["queues"].webhook_deliver)  # a crash between commit and enqueue
        assert await sweep_webhook_deliveries(ctx) >= 1
        assert job_id(delivery_id, 1) in await queued_jobs(ctx)
        assert await sweep_webhook_deliveries(ctx) == 0  # the same attempt is never queued twice
        assert await deliver_webhook(ctx, delivery_id) == "succeeded"
        assert len(receiver.posts()) == 1

    async def test_a_retry_that_is_due_is_requeued_with_its_attempt(
        self, ctx: dict[str, Any], tenant: TenantKey, receiver: WebhookReceiver
    ) -> None:
        receiver.respond(500, 200)
        _, _, delivery_id = await one_delivery(ctx, tenant, receiver.url())
        assert await deliver_webhook(ctx, delivery_id) == "retry"
        await clear_queue(ctx["redis"], ctx["queues"].webhook_deliver)
        await sweep_webhook_deliveries(ctx)
        assert job_id(delivery_id, 2) not in await queued_jobs(ctx)  # not due yet
        ctx["clock"].advance(60)
        await sweep_webhook_deliveries(ctx)
        assert job_id(delivery_id, 2) in await queued_jobs(ctx)
