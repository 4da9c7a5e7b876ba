"""Batches (docs/sending.md): ``/v3/mail/batch`` create, status counts and cancel, and SendGrid's
``/v3/user/scheduled_sends`` cancel; what a cancel does to the batch's messages and to later sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from scaisend.models import MessageStatus
from tests.factories.messages import create_batch, message_row, send, send_body, set_message
from tests.factories.tenants import TenantKey, make_key

ZEROS = {s.value: 0 for s in MessageStatus}


def later() -> int:
    return int((datetime.now(UTC) + timedelta(hours=1)).timestamp())


class TestCreate:
    async def test_201_with_a_batch_id(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.post("/v3/mail/batch", headers=sender.headers)
        assert response.status_code == 201
        assert list(response.json()) == ["batch_id"]
        assert response.json()["batch_id"].startswith("batch_")

    async def test_needs_mail_schedule(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        key = await make_key(app.state.resources.maker, sender.tenant_id, ["mail.send"])
        response = await client.post("/v3/mail/batch", headers=key.headers)
        assert (response.status_code, response.json()) == (403, {"detail": "Missing required scope: mail.schedule"})


class TestStatus:
    async def test_new_batch_counts_nothing(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        response = await client.get(f"/v3/mail/batch/{batch_id}", headers=sender.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["batch_id"], body["status"], body["total"], body["counts"]) == (batch_id, "active", 0, ZEROS)
        assert body["created_at"].endswith("Z")

    async def test_counts_by_status(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        ids = await send(
            client,
            sender,
            send_body("a@example.org", "b@example.org", "c@example.org", batch_id=batch_id, send_at=later()),
        )
        await send(client, sender, send_body("d@example.org"))  # not in the batch
        await set_message(app.state.resources.maker, ids[2], status="delivered")
        body = (await client.get(f"/v3/mail/batch/{batch_id}", headers=sender.headers)).json()
        assert body["total"] == 3
        assert body["counts"] == {**ZEROS, "queued": 2, "delivered": 1}

    async def test_unknown_batch_is_404_in_sendgrid_shape(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        response = await client.get("/v3/mail/batch/batch_nope", headers=sender.headers)
        assert response.status_code == 404
        assert response.json()["errors"][0]["message"] == "Batch not found: batch_nope"
        assert response.json()["errors"][0]["field"] == "batch_id"


class TestCancel:
    async def test_cancels_queued_messages_only(
        self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey
    ) -> None:
        maker = app.state.resources.maker
        batch_id = await create_batch(client, sender)
        queued, processing, sent = await send(
            client,
            sender,
            send_body("a@example.org", "b@example.org", "c@example.org", batch_id=batch_id, send_at=later()),
        )
        [outside] = await send(client, sender, send_body("d@example.org", send_at=later()))
        await set_message(maker, processing, status="processing")
        await set_message(maker, sent, status="sent")

        response = await client.post(f"/v3/mail/batch/{batch_id}/cancel", headers=sender.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["counts"]) == ("cancelled", {**ZEROS, "cancelled": 2, "sent": 1})
        assert [(await message_row(maker, i)).status for i in (queued, processing, sent, outside)] == [
            "cancelled",
            "cancelled",
            "sent",
            "queued",
        ]

        again = await client.post(f"/v3/mail/batch/{batch_id}/cancel", headers=sender.headers)
        assert (again.status_code, again.json()["counts"]["cancelled"]) == (200, 2)
        status = await client.get(f"/v3/mail/batch/{batch_id}", headers=sender.headers)
        assert status.json()["status"] == "cancelled"

    async def test_a_cancelled_batch_takes_no_more_sends(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        await client.post(f"/v3/mail/batch/{batch_id}/cancel", headers=sender.headers)
        response = await client.post("/v3/mail/send", headers=sender.headers, json=send_body(batch_id=batch_id))
        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "message": f"The batch {batch_id} has been cancelled.",
            "field": "batch_id",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.batch_id",
        }

    async def test_needs_mail_cancel(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        key = await make_key(app.state.resources.maker, sender.tenant_id, ["mail.send", "mail.schedule"])
        response = await client.post(f"/v3/mail/batch/{batch_id}/cancel", headers=key.headers)
        assert (response.status_code, response.json()) == (403, {"detail": "Missing required scope: mail.cancel"})


class TestScheduledSends:
    async def test_cancel_alias(self, app: FastAPI, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        [message_id] = await send(client, sender, send_body(batch_id=batch_id, send_at=later()))
        response = await client.post(
            "/v3/user/scheduled_sends", headers=sender.headers, json={"batch_id": batch_id, "status": "cancel"}
        )
        assert (response.status_code, response.json()) == (201, {"batch_id": batch_id, "status": "cancel"})
        assert (await message_row(app.state.resources.maker, message_id)).status == "cancelled"

    async def test_pause_is_not_supported(self, client: httpx.AsyncClient, sender: TenantKey) -> None:
        batch_id = await create_batch(client, sender)
        response = await client.post(
            "/v3/user/scheduled_sends", headers=sender.headers, json={"batch_id": batch_id, "status": "pause"}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "status"

    async def test_bad_body_and_other_tenants_batch(
        self, client: httpx.AsyncClient, sender: TenantKey, other_tenant: TenantKey
    ) -> None:
        bad = await client.post("/v3/user/scheduled_sends", headers=sender.headers, json={"status": "stop"})
        assert bad.status_code == 400
        assert sorted(e["field"] for e in bad.json()["errors"]) == ["batch_id", "status"]
        batch_id = await create_batch(client, other_tenant)
        foreign = await client.post(
            "/v3/user/scheduled_sends", headers=sender.headers, json={"batch_id": batch_id, "status": "cancel"}
        )
        assert foreign.status_code == 404
