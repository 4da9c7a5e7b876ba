"""Sender domains whose DNS the reputation monitor checks, published on the loopback DNS server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scaisend.db.session import unit_of_work
from scaisend.domains.dns_records import dkim_value, dmarc_value, spf_value
from scaisend.domains.service import add_domain, domain_keys, mark_verified
from scaisend.settings import Settings
from tests.factories.tenants import make_tenant
from tests.harness.dns import LoopbackDNS


@dataclass(frozen=True)
class PublishedDomain:
    domain: str
    selector: str
    public_key: str

    @property
    def dkim_host(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


async def published_domain(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dns: LoopbackDNS,
    *,
    policy: str = "quarantine",
    name: str | None = None,
) -> PublishedDomain:
    """An active, verified sender domain with DKIM, SPF, DMARC and MX records in DNS exactly as ScaiSend asks."""
    tenant = await make_tenant(maker)
    domain = name or f"r{uuid.uuid4().hex[:10]}.example.test"
    async with unit_of_work(maker) as session:
        row = await add_domain(session, settings, tenant.tenant_id, domain, dmarc_policy=policy)
        await mark_verified(session, row)
        (key,) = await domain_keys(session, row)
    published = PublishedDomain(domain, key.selector, key.public_key)
    dns.add_txt(published.dkim_host, dkim_value(key.public_key))
    dns.add_txt(domain, spf_value(settings))
    dns.add_txt(f"_dmarc.{domain}", dmarc_value(policy, None))
    dns.add_mx(domain, f"mx.{domain}", ip="192.0.2.25")
    return published
