"""The records a tenant publishes (docs/domains.md, D14): DKIM, SPF, DMARC, each ``{type, host, value, purpose, valid}``."""

from __future__ import annotations

from scaisend.domains.dns_records import (
    dmarc_value,
    next_selector,
    records_to_publish,
    spf_value,
)
from scaisend.models import DkimKey, SenderDomain
from tests.harness.settings import make_settings

SETTINGS = make_settings(SMTP_HOSTNAME="mta.scaisend.test")


def domain(**overrides: object) -> SenderDomain:
    values: dict[str, object] = {
        "id": "dom_1",
        "tenant_id": "tnt_1",
        "domain": "mail.example.com",
        "dmarc_policy": "quarantine",
        "dmarc_rua_email": "dmarc@example.com",
        "active_selector": "scaisend",
        "dkim_verified": False,
        "spf_verified": False,
        "dmarc_verified": False,
        "verified": False,
        "is_active": True,
    }
    values.update(overrides)
    return SenderDomain(**values)


def key(selector: str, public: str) -> DkimKey:
    return DkimKey(
        id=f"dkim_{selector}", domain_id="dom_1", selector=selector, public_key=public, private_key_encrypted="x"
    )


class TestRecordsToPublish:
    def test_dkim_spf_dmarc_shapes(self) -> None:
        records = [r.as_dict() for r in records_to_publish(domain(), [key("scaisend", "PUB1")], SETTINGS)]
        assert records == [
            {
                "type": "TXT",
                "host": "scaisend._domainkey.mail.example.com",
                "value": "v=DKIM1; k=rsa; p=PUB1",
                "purpose": "dkim",
                "valid": False,
            },
            {
                "type": "TXT",
                "host": "mail.example.com",
                "value": "v=spf1 a:mta.scaisend.test ~all",
                "purpose": "spf",
                "valid": False,
            },
            {
                "type": "TXT",
                "host": "_dmarc.mail.example.com",
                "value": "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com",
                "purpose": "dmarc",
                "valid": False,
            },
        ]

    def test_valid_reflects_the_last_verification(self) -> None:
        row = domain(dkim_verified=True, spf_verified=False, dmarc_verified=True)
        valid = {r.purpose: r.valid for r in records_to_publish(row, [key("scaisend", "P")], SETTINGS)}
        assert valid == {"dkim": True, "spf": False, "dmarc": True}

    def test_pending_rotation_key_is_listed_after_the_active_one(self) -> None:
        row = domain(active_selector="scaisend2", dkim_verified=True)
        records = records_to_publish(row, [key("scaisend", "NEW"), key("scaisend2", "OLD")], SETTINGS)
        dkim = [(r.purpose, r.host, r.value, r.valid) for r in records if r.purpose.startswith("dkim")]
        assert dkim == [
            ("dkim", "scaisend2._domainkey.mail.example.com", "v=DKIM1; k=rsa; p=OLD", True),
            ("dkim_rotation", "scaisend._domainkey.mail.example.com", "v=DKIM1; k=rsa; p=NEW", False),
        ]


class TestValues:
    def test_selectors_alternate(self) -> None:
        assert next_selector("scaisend") == "scaisend2"
        assert next_selector("scaisend2") == "scaisend"

    def test_dmarc_without_rua(self) -> None:
        assert dmarc_value("none", None) == "v=DMARC1; p=none"
        assert dmarc_value("reject", "r@example.com") == "v=DMARC1; p=reject; rua=mailto:r@example.com"

    def test_spf_names_the_smtp_hostname(self) -> None:
        assert spf_value(make_settings(SMTP_HOSTNAME="Out.Example.NET.")) == "v=spf1 a:out.example.net ~all"
