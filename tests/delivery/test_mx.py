"""MX routing against the loopback DNS server (RFC 5321 §5.1, RFC 7505, D10): order, implicit MX, null MX, DNS
failures, the relay host and the MX_CACHE_TTL cache."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scaisend.clock import ManualClock
from scaisend.delivery.mx import Destination, MxResolver, RouteFailure, split_host_port
from scaisend.resolver import make_resolver
from tests.harness.dns import LoopbackDNS
from tests.harness.settings import make_settings


def resolver_for(dns: LoopbackDNS, clock: ManualClock | None = None, *, ttl: int = 300, relay: str = "") -> MxResolver:
    settings = make_settings(DNS_NAMESERVERS=dns.nameserver_setting)
    return MxResolver(
        make_resolver(settings, timeout=0.5, lifetime=1.0), clock or ManualClock(), ttl=ttl, port=2525, relay=relay
    )


class TestRoute:
    async def test_hosts_in_preference_order(self, dns: LoopbackDNS) -> None:
        dns.add_mx("example.test", "mx2.example.test", 20)
        dns.add_mx("example.test", "mx1.example.test", 10)
        assert await resolver_for(dns).route("Example.Test") == Destination(
            "example.test", ("mx1.example.test", "mx2.example.test"), 2525
        )

    async def test_implicit_mx_from_an_address_record(self, dns: LoopbackDNS) -> None:
        dns.add_a("example.test", "127.0.0.1")
        mx = resolver_for(dns)
        assert await mx.route("example.test") == Destination("example.test", ("example.test",), 2525, implicit=True)
        dns.clear()
        assert await mx.addresses("example.test") == ["127.0.0.1"]  # learned with the route, cached

    async def test_null_mx_fails_permanently(self, dns: LoopbackDNS) -> None:
        dns.add_null_mx("example.test")
        route = await resolver_for(dns).route("example.test")
        assert isinstance(route, RouteFailure)
        assert (route.permanent, route.status) == (True, "5.1.10")
        assert "null MX" in route.text

    async def test_null_mx_next_to_real_ones_is_ignored(self, dns: LoopbackDNS) -> None:
        dns.add_null_mx("example.test")
        dns.add_mx("example.test", "mx.example.test", 10)
        route = await resolver_for(dns).route("example.test")
        assert isinstance(route, Destination)
        assert route.hosts == ("mx.example.test",)

    async def test_nxdomain_fails_permanently(self, dns: LoopbackDNS) -> None:
        route = await resolver_for(dns).route("nowhere.example.test")
        assert isinstance(route, RouteFailure)
        assert (route.permanent, route.status) == (True, "5.1.2")

    async def test_no_mx_and_no_address_fails_permanently(self, dns: LoopbackDNS) -> None:
        dns.add_txt("example.test", "v=spf1 -all")
        route = await resolver_for(dns).route("example.test")
        assert isinstance(route, RouteFailure)
        assert (route.permanent, route.status) == (True, "5.1.2")

    async def test_servfail_is_temporary(self, dns: LoopbackDNS) -> None:
        dns.add_servfail("example.test")
        route = await resolver_for(dns).route("example.test")
        assert isinstance(route, RouteFailure)
        assert (route.permanent, route.status) == (False, "4.4.3")

    async def test_timeout_is_temporary(self, dns: LoopbackDNS) -> None:
        dns.add_timeout("example.test")
        route = await resolver_for(dns).route("example.test")
        assert isinstance(route, RouteFailure)
        assert not route.permanent

    @pytest.mark.parametrize("domain", ["", "localhost", "-bad-.\u00e9\udcff"])
    async def test_unusable_domain_is_a_syntax_failure_without_asking(self, dns: LoopbackDNS, domain: str) -> None:
        route = await resolver_for(dns).route(domain)
        assert isinstance(route, RouteFailure)
        assert (route.permanent, route.status) == (True, "5.1.3")
        assert dns.queries == []

    async def test_relay_host_skips_dns(self, dns: LoopbackDNS) -> None:
        mx = resolver_for(dns, relay="localhost:2526")
        assert await mx.route("anything.example") == Destination("anything.example", ("localhost",), 2526, relay=True)
        assert "127.0.0.1" in await mx.addresses("localhost")
        assert dns.queries == []


class TestCache:
    async def test_routes_are_cached_for_the_ttl(self, dns: LoopbackDNS) -> None:
        clock = ManualClock()
        mx = resolver_for(dns, clock, ttl=60)
        dns.add_mx("example.test", "mx1.example.test", 10)
        await mx.route("example.test")
        dns.remove("example.test")
        dns.add_mx("example.test", "mx9.example.test", 10)
        clock.advance(timedelta(seconds=59))
        assert (await mx.route("example.test")).hosts == ("mx1.example.test",)  # type: ignore[union-attr]
        clock.advance(timedelta(seconds=2))
        assert (await mx.route("example.test")).hosts == ("mx9.example.test",)  # type: ignore[union-attr]

    async def test_temporary_failures_are_not_cached(self, dns: LoopbackDNS) -> None:
        mx = resolver_for(dns)
        dns.add_servfail("example.test")
        assert isinstance(await mx.route("example.test"), RouteFailure)
        dns.remove("example.test")
        dns.add_mx("example.test", "mx1.example.test", 10)
        assert isinstance(await mx.route("example.test"), Destination)

    async def test_ttl_zero_disables_the_cache(self, dns: LoopbackDNS) -> None:
        mx = resolver_for(dns, ttl=0)
        dns.add_mx("example.test", "mx1.example.test", 10)
        await mx.route("example.test")
        await mx.route("example.test")
        assert dns.queries.count(("example.test", "MX")) == 2


class TestAddresses:
    async def test_a_and_aaaa(self, dns: LoopbackDNS) -> None:
        dns.add_a("mx1.example.test", "127.0.0.1")
        dns.add_aaaa("mx1.example.test", "::1")
        assert await resolver_for(dns).addresses("mx1.example.test") == ["127.0.0.1", "::1"]

    async def test_ip_literal_and_missing_host(self, dns: LoopbackDNS) -> None:
        mx = resolver_for(dns)
        assert await mx.addresses("192.0.2.7") == ["192.0.2.7"]
        assert await mx.addresses("gone.example.test") == []


class TestSplitHostPort:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("smtp.example.com", ("smtp.example.com", 25)),
            ("smtp.example.com:2525", ("smtp.example.com", 2525)),
            ("[::1]:2526", ("::1", 2526)),
            ("[::1]", ("::1", 25)),
        ],
    )
    def test_forms(self, value: str, expected: tuple[str, int]) -> None:
        assert split_host_port(value, 25) == expected
