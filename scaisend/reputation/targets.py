"""What the reputation monitor watches: the addresses the SMTP service sends from and the active sender domains.

- Addresses: ``REPUTATION_SENDING_IPS`` when set (a comma-separated list: the egress addresses, or the NAT address
  in front of them), else the A/AAAA records of ``SMTP_HOSTNAME`` (which needs them anyway, with matching PTR, spec
  docs/domains.md, D14). With ``SMTP_RELAY_HOST`` the relay's addresses are what receivers see: list them in
  ``REPUTATION_SENDING_IPS``.
- Domains: every active and verified sender domain (one row per name; across tenants the same name is one DNS zone),
  with the DKIM key it signs with and the DMARC policy chosen for it; plus ``BOUNCE_DOMAIN``, which only needs an MX
  (DSNs and complaints come back to it).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scaisend.domains.verification import SelectorKey
from scaisend.models import DkimKey, SenderDomain
from scaisend.resolver import DnsLookupError, Resolver, address_records
from scaisend.settings import Settings


@dataclass(frozen=True)
class WatchedDomain:
    domain: str
    key: SelectorKey | None  # None: the bounce domain (MX only)
    dmarc_policy: str = "none"


async def sending_ips(settings: Settings, resolver: Resolver) -> list[str]:
    """The configured addresses, else those of ``SMTP_HOSTNAME``; ``[]`` when it does not resolve."""
    configured = [part.strip() for part in settings.REPUTATION_SENDING_IPS.split(",") if part.strip()]
    if configured:
        return sorted({str(ipaddress.ip_address(ip)) for ip in configured})
    try:
        return sorted(set(await address_records(resolver, settings.SMTP_HOSTNAME)))
    except DnsLookupError:
        return []


async def sender_domains(session: AsyncSession) -> list[WatchedDomain]:
    """Active, verified sender domains with their active DKIM key, one per name (the latest verified wins)."""
    rows = await session.execute(
        select(SenderDomain.domain, SenderDomain.dmarc_policy, DkimKey.selector, DkimKey.public_key)
        .join(DkimKey, (DkimKey.domain_id == SenderDomain.id) & (DkimKey.selector == SenderDomain.active_selector))
        .where(SenderDomain.is_active.is_(True), SenderDomain.verified.is_(True))
        .order_by(SenderDomain.last_verified_at)
    )
    found = {
        domain.lower(): WatchedDomain(domain.lower(), SelectorKey(selector, public_key), policy)
        for domain, policy, selector, public_key in rows.all()
    }
    return [found[name] for name in sorted(found)]
