"""``scaisend/resolver.py`` against the real loopback DNS server: settings → resolver, typed results, and
dnspython's exceptions translated into ScaiSend's at the boundary."""

from __future__ import annotations

import time

import pytest
from dns.nameserver import Do53Nameserver

from scaisend.resolver import (
    DnsLookupError,
    DnsNameNotFoundError,
    DnsNoAnswerError,
    DnsServerError,
    DnsTimeoutError,
    MxRecord,
    address_records,
    make_resolver,
    mx_records,
    txt_records,
)
from scaisend.settings import Settings
from tests.harness.dns import LoopbackDNS
from tests.harness.settings import make_settings


class TestMakeResolver:
    def test_uses_dns_nameservers_with_their_ports(self) -> None:
        resolver = make_resolver(make_settings(DNS_NAMESERVERS="127.0.0.1:5353, 127.0.0.2"), lifetime=3.0)
        servers = [(ns.address, ns.port) for ns in resolver.nameservers if isinstance(ns, Do53Nameserver)]
        assert servers == [("127.0.0.1", 5353), ("127.0.0.2", 53)]
        assert len(resolver.nameservers) == 2
        assert resolver.lifetime == 3.0

    def test_empty_setting_uses_the_system_configuration(self) -> None:
        resolver = make_resolver(make_settings(DNS_NAMESERVERS=""))
        assert len(resolver.nameservers) >= 1


class TestTxtRecords:
    async def test_long_record_is_joined_into_one_string(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        value = "v=DKIM1; k=rsa; p=" + "Q" * 400
        dns.add_txt("sel._domainkey.example.test", value)
        dns.add_txt("sel._domainkey.example.test", "second record")
        records = await txt_records(make_resolver(dns_settings), "sel._domainkey.example.test")
        assert sorted(records) == sorted([value, "second record"])

    async def test_unknown_name_is_name_not_found(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_a("known.test", "127.0.0.1")
        with pytest.raises(DnsNameNotFoundError) as info:
            await txt_records(make_resolver(dns_settings), "unknown.test")
        assert info.value.name == "unknown.test"
        assert info.value.rdtype == "TXT"

    async def test_name_without_txt_is_no_answer(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_a("known.test", "127.0.0.1")
        with pytest.raises(DnsNoAnswerError):
            await txt_records(make_resolver(dns_settings), "known.test")

    async def test_servfail_is_server_error(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_servfail("broken.test")
        with pytest.raises(DnsServerError):
            await txt_records(make_resolver(dns_settings), "broken.test")

    async def test_silence_is_timeout_within_the_lifetime(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_timeout("slow.test")
        started = time.monotonic()
        with pytest.raises(DnsTimeoutError) as info:
            await txt_records(make_resolver(dns_settings, timeout=0.2, lifetime=0.5), "slow.test")
        assert time.monotonic() - started < 3
        assert isinstance(info.value, DnsLookupError)
        assert "timed out" in str(info.value)


class TestMxAndAddressRecords:
    async def test_mx_sorted_by_preference(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_mx("example.test", "MX2.example.test", preference=20)
        dns.add_mx("example.test", "mx1.example.test", preference=10)
        records = await mx_records(make_resolver(dns_settings), "example.test")
        assert records == [MxRecord(10, "mx1.example.test"), MxRecord(20, "mx2.example.test")]

    async def test_null_mx(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_null_mx("nomail.test")
        (record,) = await mx_records(make_resolver(dns_settings), "nomail.test")
        assert record.is_null

    async def test_a_and_aaaa(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_a("host.test", "127.0.0.2")
        dns.add_aaaa("host.test", "::1")
        assert await address_records(make_resolver(dns_settings), "host.test") == ["127.0.0.2", "::1"]

    async def test_only_aaaa_is_enough(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_aaaa("v6.test", "::1")
        assert await address_records(make_resolver(dns_settings), "v6.test") == ["::1"]

    async def test_no_address_raises(self, dns: LoopbackDNS, dns_settings: Settings) -> None:
        dns.add_mx("noaddr.test", "mx.noaddr.test")
        with pytest.raises(DnsNoAnswerError):
            await address_records(make_resolver(dns_settings), "noaddr.test")
        with pytest.raises(DnsNameNotFoundError):
            await address_records(make_resolver(dns_settings), "nothing.test")
