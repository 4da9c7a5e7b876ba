"""Self-tests of LoopbackDNS, queried with dnspython exactly as ScaiSend's delivery code will."""

from __future__ import annotations

import pytest
from dns import asyncquery, asyncresolver, message, rcode, rdatatype
from dns.resolver import NXDOMAIN, LifetimeTimeout, NoAnswer, NoNameservers

from scaisend.settings import load_settings
from tests.harness.dns import LoopbackDNS


@pytest.fixture
def resolver(dns: LoopbackDNS) -> asyncresolver.Resolver:
    res = asyncresolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = dns.port
    res.lifetime = 2.0
    return res


async def test_mx_records_with_preferences(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_mx("Example.TEST", "mx2.example.test", preference=20)
    dns.add_mx("example.test", "mx1.example.test", preference=10, ip="127.0.0.1")
    answer = await resolver.resolve("example.test", "MX")
    pairs = sorted((r.preference, r.exchange.to_text()) for r in answer)
    assert pairs == [(10, "mx1.example.test."), (20, "mx2.example.test.")]
    assert [r.address for r in await resolver.resolve("mx1.example.test", "A")] == ["127.0.0.1"]


async def test_null_mx(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_null_mx("nomail.test")
    (record,) = await resolver.resolve("nomail.test", "MX")
    assert record.preference == 0
    assert record.exchange.to_text() == "."


async def test_a_and_aaaa(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_a("host.test", "127.0.0.2")
    dns.add_aaaa("host.test", "::1")
    assert [r.address for r in await resolver.resolve("host.test", "A")] == ["127.0.0.2"]
    assert [r.address for r in await resolver.resolve("host.test", "AAAA")] == ["::1"]


async def test_long_txt_is_split_and_reassembles(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    key = "v=DKIM1; k=rsa; p=" + "".join(chr(ord("A") + i % 26) for i in range(400))
    dns.add_txt("sel._domainkey.example.test", key)
    dns.add_txt("example.test", "v=spf1 ip4:127.0.0.1 -all")
    (record,) = await resolver.resolve("sel._domainkey.example.test", "TXT")
    assert [len(s) for s in record.strings] == [255, len(key) - 255]
    assert b"".join(record.strings).decode() == key
    (spf,) = await resolver.resolve("example.test", "TXT")
    assert spf.strings == (b"v=spf1 ip4:127.0.0.1 -all",)


async def test_unknown_name_is_nxdomain(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_a("known.test", "127.0.0.1")
    with pytest.raises(NXDOMAIN):
        await resolver.resolve("unknown.test", "MX")


async def test_known_name_without_type_is_nodata(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_a("known.test", "127.0.0.1")
    dns.add_txt("sel._domainkey.parent.test", "v=DKIM1; p=")
    with pytest.raises(NoAnswer):
        await resolver.resolve("known.test", "MX")
    with pytest.raises(NoAnswer):  # empty non-terminal
        await resolver.resolve("_domainkey.parent.test", "TXT")


async def test_remove_and_clear(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_mx("example.test", "mx.example.test")
    dns.add_a("example.test", "127.0.0.1")
    dns.remove("example.test", "mx")
    with pytest.raises(NoAnswer):
        await resolver.resolve("example.test", "MX")
    assert len(await resolver.resolve("example.test", "A")) == 1
    dns.remove("example.test")
    with pytest.raises(NXDOMAIN):
        await resolver.resolve("example.test", "A")
    dns.add_a("again.test", "127.0.0.1")
    dns.clear()
    with pytest.raises(NXDOMAIN):
        await resolver.resolve("again.test", "A")


async def test_scripted_servfail_and_timeout(dns: LoopbackDNS, resolver: asyncresolver.Resolver) -> None:
    dns.add_a("broken.test", "127.0.0.1")
    dns.add_servfail("broken.test")
    with pytest.raises(NoNameservers):
        await resolver.resolve("broken.test", "A")
    dns.add_timeout("slow.test")
    resolver.lifetime = 0.3
    with pytest.raises(LifetimeTimeout):
        await resolver.resolve("slow.test", "MX")
    dns.remove("broken.test")
    with pytest.raises(NXDOMAIN):
        await resolver.resolve("broken.test", "A")


async def test_tcp_and_query_log(dns: LoopbackDNS) -> None:
    dns.add_mx("example.test", "mx.example.test")
    response = await asyncquery.tcp(message.make_query("example.test", "MX"), "127.0.0.1", port=dns.port, timeout=2)
    assert response.rcode() == rcode.NOERROR
    assert response.answer[0].rdtype == rdatatype.MX
    assert ("example.test", "MX") in dns.queries


def test_nameserver_setting_feeds_scaisend_settings(dns: LoopbackDNS) -> None:
    settings = load_settings(DNS_NAMESERVERS=dns.nameserver_setting)
    assert settings.nameservers == [("127.0.0.1", dns.port)]
    assert dns.port > 0
