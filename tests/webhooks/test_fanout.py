"""Fan-out (docs/webhooks.md): an event recorded through ``record_event`` writes one delivery per subscribed endpoint and
a queued row for the Event Webhook, in the recorder's transaction; jobs are enqueued only after the commit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from scaisend.api.deps import get_session
from scaisend.db.handoff import unit_of_work_handing_off
from scaisend.events.recorder import record_event
from scaisend.queues import deliver_webhook_job_id as job_id
from tests.factories.tenants import TenantKey
from tests.factories.webhooks import deliveries, make_endpoint, make_event_webhook, make_message, record
from tests.webhooks.conftest import queued_jobs


class Boom(Exception):
    pass


async def endpoints(ctx: dict[str, Any], tenant: TenantKey) -> dict[str, str]:
    maker, settings = ctx["maker"], ctx["settings"]
    return {
        "all": (await make_endpoint(maker, settings, tenant.tenant_id, "http://127.0.0.1:9/all", ["*"]))[0],
        "bounces": (await make_endpoint(maker, settings, tenant.tenant_id, "http://127.0.0.1:9/b", ["bounce"]))[0],
        "off": (await make_endpoint(maker, settings, tenant.tenant_id, "http://127.0.0.1:9/off", ["*"], enabled=False))[
            0
        ],
    }


class TestEndpointFanOut:
    async def test_only_subscribed_enabled_endpoints_get_a_delivery(
        self, ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        ids = await endpoints(ctx, tenant)
        now = ctx["clock"].now()
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "delivered", now)
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "bounce", now)
        rows = await deliveries(ctx["maker"], tenant.tenant_id)
        got = sorted((r.payload["event_type"], r.endpoint_id) for r in rows)
        assert got == sorted([("delivered", ids["all"]), ("bounce", ids["all"]), ("bounce", ids["bounces"])])
        assert {(r.status, r.target, r.attempts) for r in rows} == {("pending", "endpoint", 0)}

    async def test_jobs_are_enqueued_after_commit(self, ctx: dict[str, Any], tenant: TenantKey) -> None:
        await endpoints(ctx, tenant)
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "bounce", ctx["clock"].now())
        rows = await deliveries(ctx["maker"], tenant.tenant_id)
        assert set(await queued_jobs(ctx)) == {job_id(r.id, 1) for r in rows}

    async def test_a_rolled_back_event_leaves_no_delivery_and_no_job(
        self, ctx: dict[str, Any], tenant: TenantKey
    ) -> None:
        await endpoints(ctx, tenant)

        async def record_then_fail() -> None:
            async with unit_of_work_handing_off(ctx["maker"], ctx["redis"], ctx["queues"]) as session:
                await record_event(
                    session,
                    tenant_id=tenant.tenant_id,
                    message_id="msg_rolled_back",
                    event_type="bounce",
                    recipient_email="a@example.test",
                    occurred_at=ctx["clock"].now(),
                )
                raise Boom

        with pytest.raises(Boom):
            await record_then_fail()
        assert await deliveries(ctx["maker"], tenant.tenant_id) == []
        assert await queued_jobs(ctx) == {}

    async def test_the_api_request_edge_enqueues_after_commit(
        self, ctx: dict[str, Any], app: FastAPI, tenant: TenantKey
    ) -> None:
        await endpoints(ctx, tenant)
        requests_session = get_session(app.state.resources)
        session = await anext(requests_session)
        await record_event(
            session,
            tenant_id=tenant.tenant_id,
            message_id="msg_api",
            event_type="click",
            recipient_email="a@example.test",
            occurred_at=ctx["clock"].now(),
        )
        assert await queued_jobs(ctx) == {}
        with pytest.raises(StopAsyncIteration):
            await anext(requests_session)
        [row] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert set(await queued_jobs(ctx)) == {job_id(row.id, 1)}

    async def test_the_envelope_echoes_the_message(self, ctx: dict[str, Any], tenant: TenantKey) -> None:
        await endpoints(ctx, tenant)
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
            metadata={"smtp_response": "250 OK"},
        )
        [row] = await deliveries(ctx["maker"], tenant.tenant_id)
        assert row.event_ids == [event.event_id]
        assert row.payload == {
            "event_id": event.event_id,
            "event_type": "delivered",
            "timestamp": int(ctx["clock"].now().timestamp()),
            "message_id": message_id,
            "recipient_email": "rcpt@example.test",
            "tenant_id": tenant.tenant_id,
            "categories": ["welcome"],
            "custom_args": {"order": "42"},
            "metadata": {"smtp_response": "250 OK"},
        }

    async def test_other_tenants_endpoints_get_nothing(
        self, ctx: dict[str, Any], tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await endpoints(ctx, other_tenant)
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "bounce", ctx["clock"].now())
        assert await deliveries(ctx["maker"], tenant.tenant_id) == []
        assert await deliveries(ctx["maker"], other_tenant.tenant_id) == []


class TestEventWebhookFanOut:
    async def test_queued_only_for_toggled_types(self, ctx: dict[str, Any], tenant: TenantKey) -> None:
        await make_event_webhook(
            ctx["maker"], ctx["settings"], tenant.tenant_id, "http://127.0.0.1:9/sg", delivered=False, bounce=True
        )
        now = ctx["clock"].now()
        for event_type in ("delivered", "bounce", "blocked", "open"):
            await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, event_type, now)
        rows = await deliveries(ctx["maker"], tenant.tenant_id)
        assert sorted(r.payload["envelope"]["event_type"] for r in rows) == ["blocked", "bounce", "open"]
        assert {(r.status, r.target, r.endpoint_id) for r in rows} == {("queued", "event_webhook", None)}
        assert await queued_jobs(ctx) == {}

    async def test_nothing_while_disabled(self, ctx: dict[str, Any], tenant: TenantKey) -> None:
        await make_event_webhook(
            ctx["maker"], ctx["settings"], tenant.tenant_id, "http://127.0.0.1:9/sg", enabled=False
        )
        await record(ctx["maker"], ctx["redis"], ctx["queues"], tenant.tenant_id, "open", ctx["clock"].now())
        assert await deliveries(ctx["maker"], tenant.tenant_id) == []
