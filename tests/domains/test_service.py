"""The sender-domain service (docs/domains.md, docs/runbooks.md, D14): validation, flush-never-commit, verification state, DKIM rotation,
and the two lookups the send pipeline uses, on the real MariaDB and the loopback DNS server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import dkim  # type: ignore[import-untyped]
import pytest
from dns.resolver import Resolver as SyncResolver
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.domains import service
from scaisend.domains.dkim_keys import public_key_b64
from scaisend.domains.schemas import DomainOut
from scaisend.errors import BadRequestError, ConflictError
from scaisend.models import DkimKey, SenderDomain
from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from tests.domains.conftest import publish
from tests.factories.tenants import TenantKey
from tests.harness.dns import LoopbackDNS

NOW = datetime(2026, 4, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def maker(domains_app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return domains_app.state.resources.maker  # type: ignore[no-any-return]


@pytest.fixture
async def session(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(maker) as s:
        yield s


async def view(session: AsyncSession, settings: Settings, row: SenderDomain) -> dict[str, Any]:
    return DomainOut.build(row, await service.domain_keys(session, row), settings).model_dump(mode="json")


async def verify(session: AsyncSession, settings: Settings, row: SenderDomain) -> bool:
    report = await service.verify_domain(session, settings, make_resolver(settings), row, NOW)
    return report.verified


class TestAddDomain:
    async def test_flushes_row_and_key_but_never_commits(
        self, maker: async_sessionmaker[AsyncSession], dns_settings: Settings, tenant: TenantKey
    ) -> None:
        async with maker() as session:
            row = await service.add_domain(
                session,
                dns_settings,
                tenant.tenant_id,
                "Flush.Example.COM.",
                dmarc_policy="reject",
                dmarc_rua_email="mailto:Agg@Example.com",
            )
            assert row.id.startswith("dom_")
            assert (row.domain, row.dmarc_policy, row.dmarc_rua_email) == (
                "flush.example.com",
                "reject",
                "Agg@example.com",
            )
            (key,) = await service.domain_keys(session, row)
            assert key.selector == "scaisend"
            async with maker() as other:
                assert await other.scalar(select(func.count()).where(SenderDomain.id == row.id)) == 0
            await session.rollback()

    async def test_duplicate_in_tenant_conflicts_but_other_tenant_may(
        self, session: AsyncSession, dns_settings: Settings, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await service.add_domain(session, dns_settings, tenant.tenant_id, "dup.example.com")
        with pytest.raises(ConflictError, match=r"already exists: dup\.example\.com"):
            await service.add_domain(session, dns_settings, tenant.tenant_id, "DUP.example.com")
        await service.add_domain(session, dns_settings, other_tenant.tenant_id, "dup.example.com")

    @pytest.mark.parametrize(
        "name",
        [
            "",
            "localhost",
            "exa mple.com",
            "-bad.example.com",
            "bad-.example.com",
            "a..b.com",
            "under_score.com",
            "example.123",
            "x" * 64 + ".com",
            ("a" * 60 + ".") * 4 + "com",
            "user@example.com",
        ],
    )
    def test_invalid_names_are_400(self, name: str) -> None:
        with pytest.raises(BadRequestError):
            service.normalize_domain(name)

    def test_idn_becomes_punycode(self) -> None:
        assert service.normalize_domain("Bücher.Example.") == "xn--bcher-kva.example"

    @pytest.mark.parametrize(("policy", "rua"), [("monitor", None), ("NONE", None), ("none", "not-an-address")])
    async def test_bad_dmarc_settings_are_400(
        self, session: AsyncSession, dns_settings: Settings, tenant: TenantKey, policy: str, rua: str | None
    ) -> None:
        with pytest.raises(BadRequestError):
            await service.add_domain(session, dns_settings, tenant.tenant_id, "dmarc.example.com", policy, rua)


class TestVerifyAndRotate:
    async def test_verify_stores_each_check_and_is_idempotent(
        self, session: AsyncSession, dns: LoopbackDNS, dns_settings: Settings, tenant: TenantKey
    ) -> None:
        row = await service.add_domain(session, dns_settings, tenant.tenant_id, "verify.example.com")
        published = await view(session, dns_settings, row)
        publish(dns, published, skip=("dmarc",))
        assert not await verify(session, dns_settings, row)
        assert (row.dkim_verified, row.spf_verified, row.dmarc_verified, row.verified) == (True, True, False, False)
        assert row.last_verified_at == NOW
        publish(dns, published, skip=("dkim", "spf"))
        for _ in range(2):
            assert await verify(session, dns_settings, row)
            assert (row.dkim_verified, row.spf_verified, row.dmarc_verified) == (True, True, True)

    async def test_rotation_switches_only_once_the_new_key_is_published(
        self, session: AsyncSession, dns: LoopbackDNS, dns_settings: Settings, tenant: TenantKey
    ) -> None:
        row = await service.add_domain(session, dns_settings, tenant.tenant_id, "rotate.example.com")
        publish(dns, await view(session, dns_settings, row))
        assert await verify(session, dns_settings, row)
        first_selector, first_pem = await service.signing_key(session, dns_settings, row)

        new_key = await service.rotate_dkim(session, dns_settings, row)
        assert new_key.selector == "scaisend2"
        assert await verify(session, dns_settings, row)  # not yet published: still verified with the old key
        assert row.active_selector == "scaisend"
        assert await service.signing_key(session, dns_settings, row) == (first_selector, first_pem)

        publish(dns, await view(session, dns_settings, row), skip=("dkim", "spf", "dmarc"))
        assert await verify(session, dns_settings, row)
        assert row.active_selector == "scaisend2"
        selector, pem = await service.signing_key(session, dns_settings, row)
        assert selector == "scaisend2"
        assert public_key_b64(pem) == new_key.public_key
        assert [k.selector for k in await service.domain_keys(session, row)] == ["scaisend2"]

        again = await service.rotate_dkim(session, dns_settings, row)
        assert again.selector == "scaisend"
        assert again.public_key not in (new_key.public_key, public_key_b64(first_pem))

    async def test_rotating_twice_replaces_the_pending_key(
        self, session: AsyncSession, dns_settings: Settings, tenant: TenantKey
    ) -> None:
        row = await service.add_domain(session, dns_settings, tenant.tenant_id, "twice.example.com")
        first = await service.rotate_dkim(session, dns_settings, row)
        second = await service.rotate_dkim(session, dns_settings, row)
        keys = {k.selector: k.public_key for k in await service.domain_keys(session, row)}
        assert keys["scaisend2"] == second.public_key != first.public_key
        assert set(keys) == {"scaisend", "scaisend2"}

    async def test_delete_removes_the_keys(
        self, session: AsyncSession, dns_settings: Settings, tenant: TenantKey
    ) -> None:
        row = await service.add_domain(session, dns_settings, tenant.tenant_id, "gone.example.com")
        await service.rotate_dkim(session, dns_settings, row)
        await service.delete_domain(session, row)
        assert await session.scalar(select(func.count()).where(DkimKey.domain_id == row.id)) == 0


class TestSendingDomain:
    async def test_only_verified_active_exact_domain_of_the_tenant(
        self, session: AsyncSession, dns_settings: Settings, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        row = await service.add_domain(session, dns_settings, tenant.tenant_id, "send.example.com")
        assert await service.sending_domain(session, tenant.tenant_id, "a@send.example.com") is None
        await service.mark_verified(session, row)
        found = await service.sending_domain(session, tenant.tenant_id, "Alice@SEND.example.com")
        assert found is not None
        assert found.id == row.id
        assert await service.sending_domain(session, other_tenant.tenant_id, "a@send.example.com") is None
        assert await service.sending_domain(session, tenant.tenant_id, "a@sub.send.example.com") is None
        assert await service.sending_domain(session, tenant.tenant_id, "not-an-address") is None
        await service.update_domain(session, row, is_active=False)
        assert await service.sending_domain(session, tenant.tenant_id, "a@send.example.com") is None


class TestSigningKey:
    async def test_key_signs_mail_that_verifies_against_published_dns(
        self, session: AsyncSession, dns: LoopbackDNS, dns_settings: Settings, tenant: TenantKey
    ) -> None:
        row = await service.add_domain(session, dns_settings, tenant.tenant_id, "sign.example.com")
        publish(dns, await view(session, dns_settings, row))
        selector, pem = await service.signing_key(session, dns_settings, row)
        message = (
            b"From: a@sign.example.com\r\nTo: b@example.net\r\nSubject: hi\r\n"
            b"Date: Thu, 23 Apr 2026 10:00:00 +0000\r\nMessage-ID: <1@sign.example.com>\r\n\r\nHello\r\n"
        )
        signature = dkim.sign(
            message, selector.encode(), b"sign.example.com", pem, canonicalize=(b"relaxed", b"relaxed")
        )

        real_dns = SyncResolver(configure=False)
        real_dns.nameservers = [host for host, _ in dns_settings.nameservers]
        real_dns.port = dns_settings.nameservers[0][1]

        def lookup(name: bytes, timeout: int = 5) -> bytes:
            (record,) = real_dns.resolve(name.decode(), "TXT")
            return b"".join(record.strings)

        assert dkim.verify(signature + message, dnsfunc=lookup)
        assert not dkim.verify(signature + message.replace(b"Hello", b"Hullo"), dnsfunc=lookup)
