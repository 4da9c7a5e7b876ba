"""The DNS records a tenant publishes for a sender domain (docs/domains.md, D14).

Each record is ``{type, host, value, purpose, valid}``; ``host`` is the fully qualified owner name without the final
dot, ``valid`` is what the last verification found (``False`` before the first one).

- DKIM (purpose ``dkim``): TXT at ``<active selector>._domainkey.<domain>`` = ``v=DKIM1; k=rsa; p=<base64 DER>``.
- DKIM rotation (purpose ``dkim_rotation``, only while a rotation is pending): the same at the new selector.
- SPF (purpose ``spf``): TXT on ``<domain>`` = ``v=spf1 a:<SMTP_HOSTNAME> ~all``. ``a:`` authorizes the addresses of
  the host ScaiSend sends from (its EHLO name, which needs A/AAAA and PTR anyway, docs/domains.md, D14), so one host works with
  no extra record; a domain that already has SPF adds the mechanism to its record instead of publishing a second one.
- DMARC (purpose ``dmarc``): TXT at ``_dmarc.<domain>`` = ``v=DMARC1; p=<policy>`` plus ``; rua=mailto:<rua>``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from scaisend.models import DkimKey, SenderDomain
from scaisend.settings import Settings

DEFAULT_SELECTOR = "scaisend"
ROTATION_SELECTOR = "scaisend2"
DMARC_POLICIES = ("none", "quarantine", "reject")

Purpose = Literal["dkim", "dkim_rotation", "spf", "dmarc", "mx"]


@dataclass(frozen=True)
class DnsRecord:
    type: str
    host: str
    value: str
    purpose: Purpose
    valid: bool

    def as_dict(self) -> dict[str, str | bool]:
        return asdict(self)


def next_selector(active_selector: str) -> str:
    """The selector a rotation uses: ``scaisend`` → ``scaisend2`` → ``scaisend`` → …"""
    return DEFAULT_SELECTOR if active_selector == ROTATION_SELECTOR else ROTATION_SELECTOR


def dkim_host(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dkim_value(public_key_b64: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key_b64}"


def spf_mechanism(settings: Settings) -> str:
    """The mechanism that authorizes ScaiSend: ``a:<SMTP_HOSTNAME>`` (``include:`` of it also verifies)."""
    return f"a:{settings.SMTP_HOSTNAME.lower().rstrip('.')}"


def spf_value(settings: Settings) -> str:
    return f"v=spf1 {spf_mechanism(settings)} ~all"


def dmarc_host(domain: str) -> str:
    return f"_dmarc.{domain}"


def dmarc_value(policy: str, rua_email: str | None) -> str:
    value = f"v=DMARC1; p={policy}"
    return f"{value}; rua=mailto:{rua_email}" if rua_email else value


def records_to_publish(domain: SenderDomain, keys: list[DkimKey], settings: Settings) -> list[DnsRecord]:
    """DKIM (active, then a pending rotation key if any), SPF and DMARC records for ``domain``."""
    records: list[DnsRecord] = []
    for key in sorted(keys, key=lambda k: k.selector != domain.active_selector):
        active = key.selector == domain.active_selector
        records.append(
            DnsRecord(
                type="TXT",
                host=dkim_host(key.selector, domain.domain),
                value=dkim_value(key.public_key),
                purpose="dkim" if active else "dkim_rotation",
                valid=domain.dkim_verified if active else False,
            )
        )
    records.append(
        DnsRecord(type="TXT", host=domain.domain, value=spf_value(settings), purpose="spf", valid=domain.spf_verified)
    )
    records.append(
        DnsRecord(
            type="TXT",
            host=dmarc_host(domain.domain),
            value=dmarc_value(domain.dmarc_policy, domain.dmarc_rua_email),
            purpose="dmarc",
            valid=domain.dmarc_verified,
        )
    )
    return records
