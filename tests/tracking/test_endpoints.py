"""The public tracking routes (docs/compose.md) against real MariaDB: what the recipient's client sees, and the events,
suppressions and stats that follow."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from arq.constants import job_key_prefix
from arq.jobs import Job
from fastapi import FastAPI
from sqlalchemy import select

from scaisend.db.session import unit_of_work
from scaisend.models import AsmGroup, DailyStat, EmailEvent, Suppression
from scaisend.tracking.tokens import TokenKind, sign_token
from tests.factories.sent import SentMessage, make_sent_message
from tests.factories.tenants import TenantKey
from tests.harness.json_logs import captured_json_logs, parse_lines

DEST = "https://shop.example/deals?x=1&y=2"


@pytest.fixture
async def sent(app: FastAPI, tenant: TenantKey) -> SentMessage:
    return await make_sent_message(app.state.resources.maker, tenant.tenant_id)


def token(app: FastAPI, message: SentMessage, kind: TokenKind, url: str | None = None) -> str:
    return sign_token(
        app.state.resources.settings.SECRET_KEY, kind=kind, message_id=message.id, recipient=message.recipient, url=url
    )


async def events(app: FastAPI, message: SentMessage) -> list[EmailEvent]:
    async with unit_of_work(app.state.resources.maker) as session:
        rows = await session.scalars(
            select(EmailEvent).where(EmailEvent.message_id == message.id).order_by(EmailEvent.occurred_at)
        )
        return list(rows)


async def today_stats(app: FastAPI, tenant_id: str) -> DailyStat:
    async with unit_of_work(app.state.resources.maker) as session:
        row = await session.scalar(
            select(DailyStat).where(
                DailyStat.tenant_id == tenant_id, DailyStat.date == datetime.now(UTC).date(), DailyStat.category == ""
            )
        )
    assert row is not None
    return row


async def suppressions(app: FastAPI, tenant_id: str) -> list[tuple[str, str, int | None]]:
    async with unit_of_work(app.state.resources.maker) as session:
        rows = await session.scalars(select(Suppression).where(Suppression.tenant_id == tenant_id))
        return sorted((r.kind, r.email, r.group_id) for r in rows)


class TestOpenPixel:
    async def test_gif_and_unique_counting(self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage) -> None:
        url = f"/t/o/{token(app, sent, TokenKind.OPEN)}.gif"
        first = await client.get(url, headers={"User-Agent": "Mail/1.0"})
        await client.get(url)
        assert first.status_code == 200
        assert first.headers["content-type"] == "image/gif"
        assert len(first.content) == 42
        assert first.headers["cache-control"] == "private, no-cache, no-store, must-revalidate"
        assert first.headers["pragma"] == "no-cache"
        opens = await events(app, sent)
        assert [(e.event_type, e.data["unique"]) for e in opens] == [("open", True), ("open", False)]
        assert opens[0].data["user_agent"] == "Mail/1.0"
        stats = await today_stats(app, sent.tenant_id)
        assert (stats.opens, stats.unique_opens) == (2, 1)

    async def test_the_hit_names_the_message_and_its_tenant(
        self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage, tenant: TenantKey
    ) -> None:
        """Issue 12: an open is a request of its own (its request id) about one message, whose ids its lines and the
        webhook job it queues carry."""
        hook = await client.post(
            "/v3/user/webhooks",
            headers=tenant.headers,
            json={"url": "http://127.0.0.1:9/h", "enabled_events": ["open"]},
        )
        assert hook.status_code == 201, hook.text
        pool = await app.state.resources.arq_pool()
        queue = app.state.resources.queues.webhook_deliver
        earlier = set(await pool.zrange(queue, 0, -1))  # jobs another test left behind are not this hit's
        with captured_json_logs("api") as stream:
            response = await client.get(
                f"/t/o/{token(app, sent, TokenKind.OPEN)}.gif", headers={"X-Request-ID": "hit-1"}
            )
        assert response.status_code == 200
        [recorded] = [r for r in parse_lines(stream.getvalue()) if r["message"] == "event recorded"]
        assert (recorded["message_id"], recorded["tenant_id"], recorded["request_id"]) == (
            sent.id,
            sent.tenant_id,
            "hit-1",
        )
        [job_id] = [j.decode() for j in await pool.zrange(queue, 0, -1) if j not in earlier]
        try:
            job = await Job(job_id, pool, _queue_name=queue, _deserializer=pool.job_deserializer).info()
            assert job is not None
            assert job.kwargs["correlation"] == {
                "request_id": "hit-1",
                "trace_id": job.kwargs["correlation"]["trace_id"],
                "tenant_id": sent.tenant_id,
                "message_id": sent.id,
            }
        finally:
            await pool.delete(job_key_prefix + job_id)
            await pool.zrem(queue, job_id)

    async def test_bad_token_gets_the_same_gif_and_records_nothing(
        self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage
    ) -> None:
        good = await client.get(f"/t/o/{token(app, sent, TokenKind.OPEN)}.gif")
        forged = await client.get(f"/t/o/{token(app, sent, TokenKind.OPEN)[:-3]}abc.gif")
        wrong_kind = await client.get(f"/t/o/{token(app, sent, TokenKind.UNSUBSCRIBE)}.gif")
        assert forged.content == good.content == wrong_kind.content
        assert len(await events(app, sent)) == 1


class TestClick:
    async def test_redirects_to_the_minted_url_and_counts(
        self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage
    ) -> None:
        path = f"/t/c/{token(app, sent, TokenKind.CLICK, DEST)}?u={quote(DEST, safe='')}"
        response = await client.get(path)
        await client.get(path)
        assert response.status_code == 302
        assert response.headers["location"] == DEST
        clicks = await events(app, sent)
        assert [(e.event_type, e.data["unique"], e.data["url"]) for e in clicks] == [
            ("click", True, DEST),
            ("click", False, DEST),
        ]
        stats = await today_stats(app, sent.tenant_id)
        assert (stats.clicks, stats.unique_clicks) == (2, 1)

    async def test_no_open_redirect(self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage) -> None:
        minted = token(app, sent, TokenKind.CLICK, DEST)
        altered = await client.get(f"/t/c/{minted}?u={quote('https://evil.example/', safe='')}")
        missing = await client.get(f"/t/c/{minted}")
        bad_token = await client.get(f"/t/c/{minted[:-4]}zzzz?u={quote(DEST, safe='')}")
        assert (altered.status_code, missing.status_code, bad_token.status_code) == (400, 400, 404)
        assert "location" not in altered.headers
        assert await events(app, sent) == []


class TestUnsubscribe:
    async def test_page_lists_groups_and_actions_update_lists(
        self, app: FastAPI, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            group = AsmGroup(tenant_id=tenant.tenant_id, name="Newsletter", description="Weekly news")
            session.add(group)
            await session.flush()
            group_id = group.id
        sent = await make_sent_message(app.state.resources.maker, tenant.tenant_id, asm_group_id=group_id)
        path = f"/t/u/{token(app, sent, TokenKind.UNSUBSCRIBE)}"
        page = await client.get(path)
        assert page.status_code == 200
        assert "Newsletter" in page.text
        assert "unsubscribe_all" in page.text
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        unsub = await client.post(path, content=f"action=unsubscribe_group&group_id={group_id}", headers=form)
        assert unsub.status_code == 200
        assert await suppressions(app, tenant.tenant_id) == [("group_unsubscribe", sent.recipient, group_id)]
        assert "(unsubscribed)" in (await client.get(path)).text
        await client.post(path, content=f"action=resubscribe_group&group_id={group_id}", headers=form)
        assert await suppressions(app, tenant.tenant_id) == []
        await client.post(path, content="action=unsubscribe_all", headers=form)
        assert await suppressions(app, tenant.tenant_id) == [("unsubscribe", sent.recipient, None)]
        kinds = [e.event_type for e in await events(app, sent)]
        assert kinds == ["group_unsubscribe", "group_resubscribe", "unsubscribe"]
        assert (await today_stats(app, tenant.tenant_id)).unsubscribes == 2

    async def test_one_click_post(self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage) -> None:
        response = await client.post(
            f"/t/u/{token(app, sent, TokenKind.UNSUBSCRIBE)}",
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert await suppressions(app, sent.tenant_id) == [("unsubscribe", sent.recipient, None)]
        assert [e.event_type for e in await events(app, sent)] == ["unsubscribe"]

    async def test_foreign_group_bad_action_and_bad_token(
        self, app: FastAPI, client: httpx.AsyncClient, sent: SentMessage, other_tenant: TenantKey
    ) -> None:
        async with unit_of_work(app.state.resources.maker) as session:
            foreign = AsmGroup(tenant_id=other_tenant.tenant_id, name="Theirs")
            session.add(foreign)
            await session.flush()
            foreign_id = foreign.id
        path = f"/t/u/{token(app, sent, TokenKind.UNSUBSCRIBE)}"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        foreign_group = await client.post(path, content=f"action=unsubscribe_group&group_id={foreign_id}", headers=form)
        nonsense = await client.post(path, content="action=explode", headers=form)
        bad = await client.get(f"/t/u/{token(app, sent, TokenKind.OPEN)}")
        assert (foreign_group.status_code, nonsense.status_code, bad.status_code) == (400, 400, 404)
        assert await suppressions(app, sent.tenant_id) == []
