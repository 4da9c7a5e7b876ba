"""The suppressions service as the pipeline calls it (docs/compose.md, docs/suppressions.md): ``add_bounce`` from delivery, spam reports and
unsubscribes, and what compose's policy then sees for entries added or removed through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from scaisend.db.session import unit_of_work
from scaisend.errors import BadRequestError
from scaisend.events.types import DropReason
from scaisend.models import Suppression
from scaisend.suppressions import groups, service
from scaisend.suppressions.policy import Bypass
from tests.factories.suppressions import drop_reason, make_bounce, make_group, unsubscribe_from_group
from tests.factories.tenants import TenantKey

WHEN = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)


async def _count(app: FastAPI, tenant_id: str, kind: str) -> int:
    async with unit_of_work(app.state.resources.maker) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Suppression)
                .where(Suppression.tenant_id == tenant_id, Suppression.kind == kind)
            )
            or 0
        )


class TestAddBounce:
    async def test_stores_the_pipeline_bounce_lowercased(self, app: FastAPI, tenant: TenantKey) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            row = await service.add_bounce(
                session,
                tenant.tenant_id,
                "Gone@Example.TEST",
                "550 5.1.1 User unknown",
                "hard",
                "5.1.1",
                "msg_1",
                now=WHEN,
            )
        assert (row.email, row.kind, row.bounce_type, row.status, row.message_id) == (
            "gone@example.test",
            "bounce",
            "hard",
            "5.1.1",
            "msg_1",
        )
        assert row.created_at == WHEN

    async def test_same_message_twice_is_one_row_other_messages_add_rows(self, app: FastAPI, tenant: TenantKey) -> None:
        for message_id in ("msg_a", "msg_a", "msg_b"):
            async with unit_of_work(app.state.resources.maker) as session:
                await service.add_bounce(
                    session, tenant.tenant_id, "again@example.test", "550 5.1.1", "hard", "5.1.1", message_id
                )
        assert await _count(app, tenant.tenant_id, "bounce") == 2

    async def test_unknown_bounce_type_is_refused(self, app: FastAPI, tenant: TenantKey) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            with pytest.raises(BadRequestError):
                await service.add_bounce(session, tenant.tenant_id, "x@example.test", None, "fatal", None, None)


class TestOnceOnlyLists:
    async def test_spam_report_and_unsubscribe_are_kept_once(self, app: FastAPI, tenant: TenantKey) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            assert await service.add_spam_report(session, tenant.tenant_id, "Fbl@example.test", message_id="msg_1")
            assert not await service.add_spam_report(session, tenant.tenant_id, "fbl@example.test")
            assert await service.add_unsubscribes(session, tenant.tenant_id, ["u@example.test", "U@example.test"]) == 1
        assert await _count(app, tenant.tenant_id, "spam_report") == 1
        assert await _count(app, tenant.tenant_id, "unsubscribe") == 1


class TestPolicySeesTheLists:
    """Entries added and removed through the API are what compose's suppression policy enforces."""

    async def test_bounce_added_then_deleted(self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await make_bounce(client, tenant, "Blocked@Example.test")
        async with unit_of_work(app.state.resources.maker) as session:
            reason = await drop_reason(
                session, tenant.tenant_id, "blocked@example.test", asm_group_id=None, bypass=Bypass()
            )
        assert reason is DropReason.SUPPRESSED_BOUNCE
        assert (
            await client.delete("/v3/suppression/bounces/blocked@example.test", headers=tenant.headers)
        ).status_code == 204
        async with unit_of_work(app.state.resources.maker) as session:
            assert (
                await drop_reason(session, tenant.tenant_id, "blocked@example.test", asm_group_id=None, bypass=Bypass())
                is None
            )

    async def test_group_unsubscribe_counts_for_its_group_only(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        group = await make_group(client, tenant)
        other = await make_group(client, tenant)
        await unsubscribe_from_group(client, tenant, group["id"], "reader@example.test")
        async with unit_of_work(app.state.resources.maker) as session:
            mine = await drop_reason(
                session, tenant.tenant_id, "reader@example.test", asm_group_id=group["id"], bypass=Bypass()
            )
            theirs = await drop_reason(
                session, tenant.tenant_id, "reader@example.test", asm_group_id=other["id"], bypass=Bypass()
            )
        assert (mine, theirs) == (DropReason.SUPPRESSED_GROUP, None)

    async def test_resubscribe_through_the_service(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        group = await make_group(client, tenant)
        async with unit_of_work(app.state.resources.maker) as session:
            row = await groups.get_group(session, tenant.tenant_id, group["id"])
            assert await groups.add_group_unsubscribes(session, row, ["back@example.test"], "msg_1") == 1
            assert await groups.remove_group_unsubscribe(session, row, "BACK@example.test")
            assert not await groups.remove_group_unsubscribe(session, row, "back@example.test")
