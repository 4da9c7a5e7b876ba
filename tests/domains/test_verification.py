"""DKIM/SPF/DMARC checks (docs/domains.md, D14) with real lookups against the loopback DNS server."""

from __future__ import annotations

import pytest

from scaisend.domains.dkim_keys import DkimKeyPair, generate_key_pair
from scaisend.domains.dns_records import dkim_value, dmarc_value, spf_value
from scaisend.domains.verification import SelectorKey, check_dkim, check_dmarc, check_spf, verify_records
from scaisend.resolver import Resolver, make_resolver
from scaisend.settings import Settings
from tests.harness.dns import LoopbackDNS

DOMAIN = "example.test"
DKIM_HOST = f"scaisend._domainkey.{DOMAIN}"


@pytest.fixture(scope="module")
def pair() -> DkimKeyPair:
    return generate_key_pair()


@pytest.fixture
def resolver(dns_settings: Settings) -> Resolver:
    return make_resolver(dns_settings, timeout=0.3, lifetime=0.6)


def publish_all(dns: LoopbackDNS, settings: Settings, pair: DkimKeyPair) -> None:
    dns.add_txt(DKIM_HOST, dkim_value(pair.public_key_b64))
    dns.add_txt(DOMAIN, spf_value(settings))
    dns.add_txt(f"_dmarc.{DOMAIN}", dmarc_value("reject", "agg@example.test"))


class TestVerifyRecords:
    async def test_published_records_verify(
        self, dns: LoopbackDNS, dns_settings: Settings, resolver: Resolver, pair: DkimKeyPair
    ) -> None:
        publish_all(dns, dns_settings, pair)
        report = await verify_records(resolver, DOMAIN, dns_settings, SelectorKey("scaisend", pair.public_key_b64))
        assert report.verified
        assert report.errors == []
        assert report.rotation is None

    async def test_missing_dkim_is_named(
        self, dns: LoopbackDNS, dns_settings: Settings, resolver: Resolver, pair: DkimKeyPair
    ) -> None:
        publish_all(dns, dns_settings, pair)
        dns.remove(DKIM_HOST)
        report = await verify_records(resolver, DOMAIN, dns_settings, SelectorKey("scaisend", pair.public_key_b64))
        assert not report.verified
        assert [(e.purpose, e.host) for e in report.errors] == [("dkim", DKIM_HOST)]
        assert report.errors[0].message == f"DKIM record {DKIM_HOST}: no TXT record found"
        assert report.spf.passed
        assert report.dmarc.passed

    async def test_missing_dmarc_fails(
        self, dns: LoopbackDNS, dns_settings: Settings, resolver: Resolver, pair: DkimKeyPair
    ) -> None:
        publish_all(dns, dns_settings, pair)
        dns.remove(f"_dmarc.{DOMAIN}")
        report = await verify_records(resolver, DOMAIN, dns_settings, SelectorKey("scaisend", pair.public_key_b64))
        assert not report.verified
        assert [e.purpose for e in report.errors] == ["dmarc"]
        assert "_dmarc.example.test" in report.errors[0].message

    async def test_pending_rotation_key_is_checked_but_does_not_decide(
        self, dns: LoopbackDNS, dns_settings: Settings, resolver: Resolver, pair: DkimKeyPair
    ) -> None:
        publish_all(dns, dns_settings, pair)
        report = await verify_records(
            resolver,
            DOMAIN,
            dns_settings,
            SelectorKey("scaisend", pair.public_key_b64),
            pending=SelectorKey("scaisend2", "NOT-PUBLISHED"),
        )
        assert report.verified
        assert report.rotation is not None
        assert not report.rotation.passed
        assert report.rotation.host == f"scaisend2._domainkey.{DOMAIN}"


class TestCheckDkim:
    async def test_wrong_key_fails(self, dns: LoopbackDNS, resolver: Resolver, pair: DkimKeyPair) -> None:
        dns.add_txt(DKIM_HOST, dkim_value(generate_key_pair().public_key_b64))
        result = await check_dkim(resolver, DOMAIN, SelectorKey("scaisend", pair.public_key_b64))
        assert not result.passed
        assert "p= does not match" in result.message

    async def test_pasted_quotes_and_whitespace_are_tolerated(
        self, dns: LoopbackDNS, resolver: Resolver, pair: DkimKeyPair
    ) -> None:
        p = pair.public_key_b64
        dns.add_txt(DKIM_HOST, f'"v=DKIM1\\; k=rsa\\; " "p={p[:200]}" " {p[200:]}"')
        result = await check_dkim(resolver, DOMAIN, SelectorKey("scaisend", p))
        assert result.passed, result.message

    async def test_one_matching_record_among_several_is_enough(
        self, dns: LoopbackDNS, resolver: Resolver, pair: DkimKeyPair
    ) -> None:
        dns.add_txt(DKIM_HOST, "google-site-verification=abc")
        dns.add_txt(DKIM_HOST, f"p={pair.public_key_b64}")
        assert (await check_dkim(resolver, DOMAIN, SelectorKey("scaisend", pair.public_key_b64))).passed

    @pytest.mark.parametrize(
        ("record", "problem"),
        [
            ("v=DKIM1; k=rsa; p=", "p= is empty"),
            ("v=DKIM1; k=ed25519; p={p}", "k=ed25519 is not k=rsa"),
            ("v=DKIM2; p={p}", "v=DKIM2 is not v=DKIM1"),
            ("v=DKIM1; k=rsa", "has no p= tag"),
        ],
    )
    async def test_broken_records_say_why(
        self, dns: LoopbackDNS, resolver: Resolver, pair: DkimKeyPair, record: str, problem: str
    ) -> None:
        dns.add_txt(DKIM_HOST, record.format(p=pair.public_key_b64))
        result = await check_dkim(resolver, DOMAIN, SelectorKey("scaisend", pair.public_key_b64))
        assert not result.passed
        assert problem in result.message

    async def test_timeout_fails_and_says_so(self, dns: LoopbackDNS, resolver: Resolver, pair: DkimKeyPair) -> None:
        dns.add_timeout(DKIM_HOST)
        result = await check_dkim(resolver, DOMAIN, SelectorKey("scaisend", pair.public_key_b64))
        assert not result.passed
        assert result.message.endswith("DNS lookup timed out")


class TestCheckSpf:
    @pytest.mark.parametrize(
        "record",
        [
            "v=spf1 a:mta.scaisend.test ~all",
            "v=spf1 mx +a:MTA.scaisend.test/28 -all",
            "v=spf1 include:_spf.google.com include:mta.scaisend.test ~all",
        ],
    )
    async def test_record_authorizing_us_passes(
        self, dns: LoopbackDNS, dns_settings: Settings, resolver: Resolver, record: str
    ) -> None:
        dns.add_txt(DOMAIN, "some-other-verification=1")
        dns.add_txt(DOMAIN, record)
        assert (await check_spf(resolver, DOMAIN, dns_settings)).passed

    @pytest.mark.parametrize(
        ("records", "problem"),
        [
            ([], "no TXT record found"),
            (["unrelated"], "no v=spf1 TXT record found"),
            (["v=spf1 ip4:192.0.2.1 -all"], "does not contain a:mta.scaisend.test"),
            (["v=spf1 -a:mta.scaisend.test ~all"], "does not contain a:mta.scaisend.test"),
            (["v=spf1 a:mta.scaisend.test.evil.test ~all"], "does not contain"),
            (["v=spf1 a:mta.scaisend.test ~all", "v=spf1 mx ~all"], "2 v=spf1 records found"),
        ],
    )
    async def test_record_not_authorizing_us_fails(
        self, dns: LoopbackDNS, dns_settings: Settings, resolver: Resolver, records: list[str], problem: str
    ) -> None:
        dns.add_a(DOMAIN, "127.0.0.1")
        for record in records:
            dns.add_txt(DOMAIN, record)
        result = await check_spf(resolver, DOMAIN, dns_settings)
        assert not result.passed
        assert problem in result.message
        assert result.message.startswith(f"SPF record {DOMAIN}: ")


class TestCheckDmarc:
    async def test_any_policy_passes(self, dns: LoopbackDNS, resolver: Resolver) -> None:
        dns.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1;p=none")
        assert (await check_dmarc(resolver, DOMAIN)).passed

    async def test_two_records_fail(self, dns: LoopbackDNS, resolver: Resolver) -> None:
        dns.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=none")
        dns.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=reject")
        result = await check_dmarc(resolver, DOMAIN)
        assert not result.passed
        assert "2 v=DMARC1 records" in result.message

    async def test_record_not_starting_with_version_fails(self, dns: LoopbackDNS, resolver: Resolver) -> None:
        dns.add_txt(f"_dmarc.{DOMAIN}", "p=reject; v=DMARC1")
        result = await check_dmarc(resolver, DOMAIN)
        assert not result.passed
        assert "no TXT record starting with v=DMARC1" in result.message
