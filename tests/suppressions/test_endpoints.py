"""/v3/suppression/* through the API (docs/suppressions.md): list shapes and filters, add, get, delete, the bulk-delete rules
(query string and SendGrid's DELETE bodies), the blocks view, spam reports, global unsubscribes and scopes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.factories.suppressions import (
    bounce_at,
    make_bounce,
    make_spam_report,
    new_email,
    unsubscribe_globally,
)
from tests.factories.tenants import TenantKey, make_key

BOUNCES = "/v3/suppression/bounces"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _emails(client: httpx.AsyncClient, owner: TenantKey, path: str = BOUNCES, **params: str | int) -> list[str]:
    response = await client.get(path, headers=owner.headers, params=params)
    assert response.status_code == 200, response.text
    key = path.rsplit("/", 1)[-1]
    return [item["email"] for item in response.json()[key]]


class TestListBounces:
    async def test_shape_newest_first_with_total(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        await bounce_at(app, tenant.tenant_id, "old@example.test", T0)
        await bounce_at(
            app,
            tenant.tenant_id,
            "new@example.test",
            T0 + timedelta(hours=1),
            bounce_type="soft",
            reason="552 5.2.2 Mailbox full",
            status="5.2.2",
        )
        response = await client.get(BOUNCES, headers=tenant.headers)
        assert response.status_code == 200
        assert response.json() == {
            "bounces": [
                {
                    "email": "new@example.test",
                    "created": int(T0.timestamp()) + 3600,
                    "reason": "552 5.2.2 Mailbox full",
                    "bounce_type": "soft",
                    "status": "5.2.2",
                },
                {
                    "email": "old@example.test",
                    "created": int(T0.timestamp()),
                    "reason": "550 5.1.1 User unknown",
                    "bounce_type": "hard",
                    "status": "5.1.1",
                },
            ],
            "total": 2,
        }

    async def test_limit_and_offset_page_through_with_the_full_total(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        for i in range(5):
            await bounce_at(app, tenant.tenant_id, f"p{i}@example.test", T0 + timedelta(minutes=i))
        first = await client.get(BOUNCES, headers=tenant.headers, params={"limit": 2})
        second = await client.get(BOUNCES, headers=tenant.headers, params={"limit": 2, "offset": 2})
        assert [b["email"] for b in first.json()["bounces"]] == ["p4@example.test", "p3@example.test"]
        assert [b["email"] for b in second.json()["bounces"]] == ["p2@example.test", "p1@example.test"]
        assert first.json()["total"] == second.json()["total"] == 5

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
    async def test_limit_outside_1_to_500_is_refused(
        self, client: httpx.AsyncClient, tenant: TenantKey, params: dict[str, int]
    ) -> None:
        response = await client.get(BOUNCES, headers=tenant.headers, params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][0] == "query"

    async def test_time_window_is_inclusive_unix_seconds(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        for i in range(4):
            await bounce_at(app, tenant.tenant_id, f"t{i}@example.test", T0 + timedelta(hours=i))
        start, end = int(T0.timestamp()) + 3600, int(T0.timestamp()) + 2 * 3600
        assert await _emails(client, tenant, start_time=start, end_time=end) == ["t2@example.test", "t1@example.test"]
        assert await _emails(client, tenant, start_time=end) == ["t3@example.test", "t2@example.test"]

    async def test_start_after_end_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get(BOUNCES, headers=tenant.headers, params={"start_time": 10, "end_time": 5})
        assert response.status_code == 400
        assert response.json() == {"detail": "start_time must not be after end_time"}

    async def test_email_filter_is_a_prefix_with_percent_wildcard(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        for i, email in enumerate(["sales@example.test", "salesdept@example.test", "ops_sales@example.test"]):
            await bounce_at(app, tenant.tenant_id, email, T0 + timedelta(minutes=i))
        assert await _emails(client, tenant, email="sales") == ["salesdept@example.test", "sales@example.test"]
        assert await _emails(client, tenant, email="%sales@") == ["ops_sales@example.test", "sales@example.test"]
        assert await _emails(client, tenant, email="OPS_") == ["ops_sales@example.test"]
        assert await _emails(client, tenant, email="ops%") == ["ops_sales@example.test"]
        assert await _emails(client, tenant, email="opsX") == []

    async def test_accept_text_csv_answers_csv(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        await bounce_at(app, tenant.tenant_id, "csv@example.test", T0)
        response = await client.get(BOUNCES, headers={**tenant.headers, "Accept": "text/csv"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert list(csv.DictReader(io.StringIO(response.text))) == [
            {
                "email": "csv@example.test",
                "created": str(int(T0.timestamp())),
                "reason": "550 5.1.1 User unknown",
                "bounce_type": "hard",
                "status": "5.1.1",
            }
        ]

    async def test_other_tenants_bounces_are_not_listed(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await make_bounce(client, other_tenant, "theirs@example.test")
        response = await client.get(BOUNCES, headers=tenant.headers)
        assert response.json() == {"bounces": [], "total": 0}


class TestAddBounce:
    async def test_created_with_hard_by_default_and_stored_lowercase(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        before = int(datetime.now(UTC).timestamp())
        body = await make_bounce(client, tenant, "Mixed.Case@Example.TEST", reason="manual")
        assert body["email"] == "mixed.case@example.test"
        assert body["bounce_type"] == "hard"
        assert body["reason"] == "manual"
        assert body["status"] is None
        assert before <= body["created"] <= before + 60
        found = await client.get(f"{BOUNCES}/MIXED.case@example.test", headers=tenant.headers)
        assert found.status_code == 200
        assert [b["email"] for b in found.json()] == ["mixed.case@example.test"]

    async def test_invalid_address_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(BOUNCES, headers=tenant.headers, json={"email": "not-an-address"})
        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid email address: 'not-an-address'"}

    async def test_unknown_bounce_type_is_422(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            BOUNCES, headers=tenant.headers, json={"email": new_email(), "bounce_type": "permanent"}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "bounce_type"]


class TestGetBounce:
    async def test_every_bounce_of_the_address(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        await bounce_at(app, tenant.tenant_id, "twice@example.test", T0)
        await bounce_at(
            app,
            tenant.tenant_id,
            "twice@example.test",
            T0 + timedelta(days=1),
            bounce_type="block",
            reason="554 5.7.1 Blocked",
            status="5.7.1",
        )
        response = await client.get(f"{BOUNCES}/twice@example.test", headers=tenant.headers)
        assert response.status_code == 200
        assert [(b["bounce_type"], b["status"]) for b in response.json()] == [("block", "5.7.1"), ("hard", "5.1.1")]

    async def test_unknown_address_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get(f"{BOUNCES}/nobody@example.test", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "Email not found on the bounces list: nobody@example.test"}


class TestDeleteBounce:
    async def test_deleted_then_gone(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        email = (await make_bounce(client, tenant))["email"]
        response = await client.delete(f"{BOUNCES}/{email.upper()}", headers=tenant.headers)
        assert response.status_code == 204
        assert response.content == b""
        assert (await client.get(f"{BOUNCES}/{email}", headers=tenant.headers)).status_code == 404

    async def test_unknown_address_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.delete(f"{BOUNCES}/nobody@example.test", headers=tenant.headers)
        assert response.status_code == 404


class TestBulkDelete:
    async def _three(self, client: httpx.AsyncClient, owner: TenantKey) -> list[str]:
        return [(await make_bounce(client, owner))["email"] for _ in range(3)]

    async def test_without_delete_all_is_400_and_deletes_nothing(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        emails = await self._three(client, tenant)
        for params in ({}, {"delete_all": "false"}):
            response = await client.delete(BOUNCES, headers=tenant.headers, params=params)
            assert response.status_code == 400
            assert "delete_all=true is required" in response.json()["detail"]
        assert sorted(await _emails(client, tenant)) == sorted(emails)

    async def test_delete_all_query_clears_only_this_tenant(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await self._three(client, tenant)
        theirs = await make_bounce(client, other_tenant)
        response = await client.delete(BOUNCES, headers=tenant.headers, params={"delete_all": "true"})
        assert response.status_code == 204
        assert await _emails(client, tenant) == []
        assert await _emails(client, other_tenant) == [theirs["email"]]

    async def test_delete_all_in_the_json_body(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await self._three(client, tenant)
        response = await client.request("DELETE", BOUNCES, headers=tenant.headers, json={"delete_all": True})
        assert response.status_code == 204
        assert await _emails(client, tenant) == []

    async def test_emails_in_the_json_body_delete_only_those(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        emails = await self._three(client, tenant)
        response = await client.request(
            "DELETE", BOUNCES, headers=tenant.headers, json={"emails": [emails[0].upper(), emails[1]]}
        )
        assert response.status_code == 204
        assert await _emails(client, tenant) == [emails[2]]

    @pytest.mark.parametrize(
        ("params", "body"),
        [
            ({}, {"delete_all": True, "emails": ["a@example.test"]}),
            ({}, {"delete_all": False, "emails": ["a@example.test"]}),
            ({"delete_all": "true"}, {"emails": ["a@example.test"]}),
        ],
    )
    async def test_delete_all_and_emails_together_is_400(
        self, client: httpx.AsyncClient, tenant: TenantKey, params: dict[str, str], body: dict[str, object]
    ) -> None:
        emails = await self._three(client, tenant)
        response = await client.request("DELETE", BOUNCES, headers=tenant.headers, params=params, json=body)
        assert response.status_code == 400
        assert response.json() == {"detail": "Use either delete_all or emails, not both"}
        assert len(await _emails(client, tenant)) == len(emails)

    async def test_empty_emails_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.request("DELETE", BOUNCES, headers=tenant.headers, json={"emails": []})
        assert response.status_code == 400

    async def test_malformed_body_is_422(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.request(
            "DELETE",
            BOUNCES,
            headers={**tenant.headers, "Content-Type": "application/json"},
            content=b'{"emails": "a@example.test"}',
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "emails"]


class TestBlocks:
    async def test_view_of_block_bounces_only(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await bounce_at(app, tenant.tenant_id, "both@example.test", T0)
        await bounce_at(
            app,
            tenant.tenant_id,
            "both@example.test",
            T0 + timedelta(minutes=1),
            bounce_type="block",
            reason="554 5.7.1 Blocked",
            status="5.7.1",
        )
        await bounce_at(app, tenant.tenant_id, "hard@example.test", T0)
        response = await client.get("/v3/suppression/blocks", headers=tenant.headers)
        assert response.json() == {
            "blocks": [
                {
                    "email": "both@example.test",
                    "created": int(T0.timestamp()) + 60,
                    "reason": "554 5.7.1 Blocked",
                    "status": "5.7.1",
                }
            ],
            "total": 1,
        }
        assert (await client.get("/v3/suppression/blocks/hard@example.test", headers=tenant.headers)).status_code == 404

    async def test_deleting_a_block_keeps_the_hard_bounce(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        await bounce_at(app, tenant.tenant_id, "both@example.test", T0)
        await bounce_at(app, tenant.tenant_id, "both@example.test", T0, bounce_type="block")
        response = await client.delete("/v3/suppression/blocks/both@example.test", headers=tenant.headers)
        assert response.status_code == 204
        remaining = await client.get(f"{BOUNCES}/both@example.test", headers=tenant.headers)
        assert [b["bounce_type"] for b in remaining.json()] == ["hard"]


class TestSpamReports:
    async def test_add_list_get_delete(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        body = await make_spam_report(client, tenant, "Complainer@Example.test")
        assert body["email"] == "complainer@example.test"
        assert body["ip"] is None
        again = await make_spam_report(client, tenant, "complainer@example.test")
        assert again["created"] == body["created"]
        listed = await client.get("/v3/suppression/spam_reports", headers=tenant.headers)
        assert listed.json()["total"] == 1
        one = await client.get("/v3/suppression/spam_reports/complainer@example.test", headers=tenant.headers)
        assert [r["email"] for r in one.json()] == ["complainer@example.test"]
        deleted = await client.delete("/v3/suppression/spam_reports/complainer@example.test", headers=tenant.headers)
        assert deleted.status_code == 204
        assert (
            await client.get("/v3/suppression/spam_reports/complainer@example.test", headers=tenant.headers)
        ).status_code == 404

    async def test_bulk_delete_follows_the_same_rules(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        first = (await make_spam_report(client, tenant))["email"]
        second = (await make_spam_report(client, tenant))["email"]
        path = "/v3/suppression/spam_reports"
        assert (await client.delete(path, headers=tenant.headers)).status_code == 400
        response = await client.request("DELETE", path, headers=tenant.headers, json={"emails": [first]})
        assert response.status_code == 204
        assert await _emails(client, tenant, path) == [second]


class TestUnsubscribes:
    async def test_global_unsubscribes_are_listed(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await unsubscribe_globally(client, tenant, "gone@example.test")
        response = await client.get("/v3/suppression/unsubscribes", headers=tenant.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == 1
        assert body["unsubscribes"][0]["email"] == "gone@example.test"
        assert set(body["unsubscribes"][0]) == {"email", "created"}


class TestScopes:
    async def test_read_only_key_cannot_change_lists(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        reader = await make_key(app.state.resources.maker, tenant.tenant_id, ["suppressions.read"])
        assert (await client.get(BOUNCES, headers=reader.headers)).status_code == 200
        response = await client.post(BOUNCES, headers=reader.headers, json={"email": new_email()})
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: suppressions.write"}
        response = await client.delete(BOUNCES, headers=reader.headers, params={"delete_all": "true"})
        assert response.status_code == 403

    async def test_key_without_suppression_scopes_cannot_read(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        sender = await make_key(app.state.resources.maker, tenant.tenant_id, ["mail.send"])
        response = await client.get("/v3/suppression/spam_reports", headers=sender.headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "Missing required scope: suppressions.read"}
