"""DNS blocklist look-ups against the loopback DNS server: listings, clean answers, and the answers that are errors
(a list's "query refused" codes, DNS failures, addresses outside 127/8), never listings."""

from __future__ import annotations

import pytest

from scaisend.reputation.blocklists import Blocklist, Status, blocklist, look_up, query_name
from scaisend.resolver import Resolver, make_resolver
from scaisend.settings import Settings
from tests.harness.dns import LoopbackDNS

ZEN = blocklist("zen.spamhaus.org", "ip")
DBL = blocklist("dbl.spamhaus.org", "domain")
SURBL = blocklist("multi.surbl.org", "domain")
SPAMCOP = blocklist("bl.spamcop.net", "ip")
OTHER = blocklist("rbl.example.test", "ip")


class TestQueryNames:
    def test_ipv4_reversed_and_ipv6_nibbles(self) -> None:
        assert query_name("192.0.2.10", ZEN) == "10.2.0.192.zen.spamhaus.org"
        assert (
            query_name("2001:db8::1", ZEN)
            == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org"
        )
        assert query_name("2001:db8::1", SPAMCOP) is None  # an IPv4-only list is not asked

    def test_domains_as_they_are(self) -> None:
        assert query_name("Mail.Example.COM.", DBL) == "mail.example.com.dbl.spamhaus.org"

    def test_known_zones_keep_their_codes_unknown_ones_get_the_convention(self) -> None:
        assert ZEN.ipv6
        assert not OTHER.ipv6
        assert blocklist(" ZEN.spamhaus.org. ", "ip") is ZEN


@pytest.fixture
def resolver(database: Settings, dns: LoopbackDNS) -> Resolver:
    return make_resolver(database.model_copy(update={"DNS_NAMESERVERS": dns.nameserver_setting}), lifetime=2)


ANSWERS = [
    (ZEN, "192.0.2.10", "127.0.0.2", Status.LISTED),
    (ZEN, "192.0.2.10", "127.0.0.11", Status.LISTED),
    (ZEN, "192.0.2.10", "127.255.255.254", Status.ERROR),  # Spamhaus: query through a public resolver
    (ZEN, "192.0.2.10", "127.255.255.255", Status.ERROR),  # Spamhaus: excessive number of queries
    (DBL, "bad.example.test", "127.0.1.2", Status.LISTED),
    (DBL, "bad.example.test", "127.0.1.255", Status.ERROR),  # DBL: an IP address was asked
    (SURBL, "bad.example.test", "127.0.0.64", Status.LISTED),
    (SURBL, "bad.example.test", "127.0.0.1", Status.ERROR),  # SURBL: access blocked
    (OTHER, "192.0.2.10", "127.0.0.2", Status.LISTED),
    (OTHER, "192.0.2.10", "198.51.100.7", Status.ERROR),  # a resolver rewriting NXDOMAIN to an advert server
]


@pytest.mark.parametrize(("listing", "target", "code", "status"), ANSWERS, ids=[f"{a[0].zone}-{a[2]}" for a in ANSWERS])
async def test_answer_codes(
    resolver: Resolver, dns: LoopbackDNS, listing: Blocklist, target: str, code: str, status: Status
) -> None:
    name = query_name(target, listing)
    assert name is not None
    dns.add_a(name, code)
    verdict = await look_up(resolver, target, listing)
    assert verdict.status is status
    assert code in verdict.detail
    assert verdict.ttl == dns.ttl


async def test_nxdomain_is_clean(resolver: Resolver, dns: LoopbackDNS) -> None:
    verdict = await look_up(resolver, "192.0.2.99", ZEN)
    assert verdict.status is Status.CLEAN
    assert ("99.2.0.192.zen.spamhaus.org", "A") in dns.queries


async def test_dns_failures_are_errors(resolver: Resolver, dns: LoopbackDNS) -> None:
    dns.add_servfail("10.2.0.192.zen.spamhaus.org")
    verdict = await look_up(resolver, "192.0.2.10", ZEN)
    assert verdict.status is Status.ERROR
    assert "SERVFAIL" in verdict.detail


async def test_an_ipv4_only_list_is_not_asked_about_ipv6(resolver: Resolver, dns: LoopbackDNS) -> None:
    verdict = await look_up(resolver, "2001:db8::1", SPAMCOP)
    assert verdict.status is Status.CLEAN
    assert dns.queries == []
