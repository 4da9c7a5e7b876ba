"""The reputation monitor against the loopback DNS server and a database of its own: what it checks, how politely
(once per list and target per interval or TTL, whichever is longer), and that a failed look-up never reads as a
change."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update

from scaisend.db.session import unit_of_work
from scaisend.models import SenderDomain
from scaisend.reputation.monitor import Health, Listing, ReputationMonitor
from scaisend.resolver import make_resolver
from tests.factories.reputation import PublishedDomain, published_domain
from tests.harness.database import OwnDatabase
from tests.harness.dns import LoopbackDNS

LISTED_IP, CLEAN_IP = "192.0.2.10", "192.0.2.11"


@dataclass
class Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    monitor: ReputationMonitor
    clock: Clock
    dns: LoopbackDNS
    domain: PublishedDomain

    def listings(self) -> dict[tuple[str, str], Listing]:
        return {(x.blocklist, x.target): x for x in self.monitor.snapshot().listings}

    def health(self) -> dict[tuple[str, str], Health]:
        return {(h.domain, h.check): h for h in self.monitor.snapshot().health}


@pytest.fixture
async def world(own_database: OwnDatabase, dns: LoopbackDNS) -> World:
    settings = own_database.settings.model_copy(
        update={
            "DNS_NAMESERVERS": dns.nameserver_setting,
            "REPUTATION_CHECKS_ENABLED": True,
            "REPUTATION_CHECK_INTERVAL": "10m",
            "REPUTATION_SENDING_IPS": f"{LISTED_IP},{CLEAN_IP}",
            "REPUTATION_IP_BLOCKLISTS": "zen.spamhaus.org",
            "REPUTATION_DOMAIN_BLOCKLISTS": "dbl.spamhaus.org",
        }
    )
    domain = await published_domain(own_database.maker, settings, dns)
    dns.add_a("10.2.0.192.zen.spamhaus.org", "127.0.0.2")
    dns.add_mx(settings.BOUNCE_DOMAIN, f"mx.{settings.BOUNCE_DOMAIN}", ip="192.0.2.25")
    dns.queries.clear()
    clock = Clock()
    monitor = ReputationMonitor(settings, make_resolver(settings, lifetime=2), own_database.maker, clock)
    return World(monitor, clock, dns, domain)


class TestWhatIsChecked:
    async def test_addresses_domains_and_the_bounce_domain(self, world: World) -> None:
        await world.monitor.run_once()
        listings = world.listings()
        assert set(listings) == {
            ("zen.spamhaus.org", LISTED_IP),
            ("zen.spamhaus.org", CLEAN_IP),
            ("dbl.spamhaus.org", world.domain.domain),
        }
        assert listings[("zen.spamhaus.org", LISTED_IP)].listed is True
        assert listings[("zen.spamhaus.org", CLEAN_IP)].listed is False
        assert listings[("dbl.spamhaus.org", world.domain.domain)].listed is False
        health = world.health()
        bounce = world.monitor.settings.BOUNCE_DOMAIN
        assert set(health) == {(world.domain.domain, c) for c in ("dkim", "spf", "dmarc", "mx")} | {(bounce, "mx")}
        assert all(h.ok and not h.error for h in health.values()), health

    async def test_sending_ips_default_to_the_ehlo_hosts_addresses(self, world: World) -> None:
        settings = world.monitor.settings.model_copy(update={"REPUTATION_SENDING_IPS": ""})
        world.dns.add_a(settings.SMTP_HOSTNAME, LISTED_IP)
        monitor = ReputationMonitor(settings, world.monitor.resolver, world.monitor.maker, world.clock)
        await monitor.run_once()
        assert {(x.blocklist, x.target) for x in monitor.snapshot().listings if x.kind == "ip"} == {
            ("zen.spamhaus.org", LISTED_IP)
        }

    async def test_a_changed_dkim_record_and_a_laxer_dmarc_policy_fail(self, world: World) -> None:
        await world.monitor.run_once()
        world.dns.remove(world.domain.dkim_host)
        world.dns.add_txt(world.domain.dkim_host, "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnot")
        world.dns.remove(f"_dmarc.{world.domain.domain}")
        world.dns.add_txt(f"_dmarc.{world.domain.domain}", "v=DMARC1; p=none")
        world.clock.now += 600
        await world.monitor.run_once()
        health = world.health()
        assert health[(world.domain.domain, "dkim")].ok is False
        assert "does not match" in health[(world.domain.domain, "dkim")].message
        assert health[(world.domain.domain, "dmarc")].ok is False
        assert "p=none is not the policy chosen" in health[(world.domain.domain, "dmarc")].message
        assert health[(world.domain.domain, "spf")].ok is True


class TestPoliteness:
    async def test_one_query_per_list_and_target_per_interval(self, world: World) -> None:
        await world.monitor.run_once()
        first = list(world.dns.queries)
        assert first.count(("10.2.0.192.zen.spamhaus.org", "A")) == 1
        world.clock.now += 599
        await world.monitor.run_once()
        assert world.dns.queries == first  # nothing asked again before the interval
        world.clock.now += 1
        await world.monitor.run_once()
        assert world.dns.queries.count(("10.2.0.192.zen.spamhaus.org", "A")) == 2

    async def test_a_ttl_longer_than_the_interval_is_honoured(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(world.dns, "ttl", 3600)  # the session's DNS server: restored after the test
        world.dns.remove("10.2.0.192.zen.spamhaus.org")
        world.dns.add_a("10.2.0.192.zen.spamhaus.org", "127.0.0.2")
        await world.monitor.run_once()
        world.clock.now += 1800
        await world.monitor.run_once()
        assert world.dns.queries.count(("10.2.0.192.zen.spamhaus.org", "A")) == 1
        world.clock.now += 1800
        await world.monitor.run_once()
        assert world.dns.queries.count(("10.2.0.192.zen.spamhaus.org", "A")) == 2


class TestFailures:
    async def test_a_refused_query_keeps_the_last_listing_and_flags_the_check(self, world: World) -> None:
        await world.monitor.run_once()
        world.dns.remove("10.2.0.192.zen.spamhaus.org")
        world.dns.add_a("10.2.0.192.zen.spamhaus.org", "127.255.255.254")  # "query refused"
        world.clock.now += 600
        await world.monitor.run_once()
        listing = world.listings()[("zen.spamhaus.org", LISTED_IP)]
        assert (listing.listed, listing.error) == (True, True)
        assert "127.255.255.254" in listing.detail

    async def test_dns_not_answering_is_an_error_not_a_broken_record(self, world: World) -> None:
        await world.monitor.run_once()
        world.dns.add_servfail(world.domain.dkim_host)
        world.clock.now += 600
        await world.monitor.run_once()
        dkim = world.health()[(world.domain.domain, "dkim")]
        assert (dkim.ok, dkim.error) == (True, True)

    async def test_a_domain_no_longer_active_is_forgotten(self, world: World, own_database: OwnDatabase) -> None:
        await world.monitor.run_once()
        async with unit_of_work(own_database.maker) as session:
            await session.execute(update(SenderDomain).values(is_active=False))
        await world.monitor.run_once()
        assert world.domain.domain not in {h.domain for h in world.monitor.snapshot().health}
        assert world.domain.domain not in {x.target for x in world.monitor.snapshot().listings}
