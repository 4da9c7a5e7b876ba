"""D8: the SSRF guard on webhook URLs, with names resolved through the loopback DNS server."""

from __future__ import annotations

import pytest

from scaisend.resolver import make_resolver
from scaisend.settings import Settings
from scaisend.webhooks.url_guard import UnsafeWebhookUrlError, check_destination, check_url_syntax
from tests.harness.dns import LoopbackDNS
from tests.harness.settings import make_settings


def guarded(dns: LoopbackDNS, **overrides: object) -> Settings:
    return make_settings(WEBHOOK_ALLOW_PRIVATE_NETWORKS=False, DNS_NAMESERVERS=dns.nameserver_setting, **overrides)


class TestCheckUrlSyntax:
    def test_production_demands_https(self) -> None:
        production = make_settings(ENVIRONMENT="production")
        with pytest.raises(UnsafeWebhookUrlError, match="must use https"):
            check_url_syntax("http://hooks.example.com/x", production)
        assert check_url_syntax("https://hooks.example.com/x", production).host == "hooks.example.com"
        assert check_url_syntax("http://hooks.example.com/x", make_settings()).scheme == "http"

    @pytest.mark.parametrize("url", ["ftp://example.com/", "/relative", "not a url", "https://", "x" * 3000])
    def test_refuses_malformed(self, url: str) -> None:
        with pytest.raises(UnsafeWebhookUrlError):
            check_url_syntax(url, make_settings())


class TestCheckDestination:
    async def test_literal_private_addresses_are_refused(self, dns: LoopbackDNS) -> None:
        settings = guarded(dns)
        for url in (
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/hook",
            "http://[::1]:8080/",
            "http://localhost/hook",
            "http://api.localhost/hook",
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of 169.254.169.254
            "http://[2002:7f00:1::1]/",  # 6to4 of 127.0.0.1
            "http://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
            "http://[fec0::1]/",  # site-local
        ):
            with pytest.raises(UnsafeWebhookUrlError, match="non-public address"):
                await check_destination(url, settings, make_resolver(settings))

    async def test_a_name_resolving_privately_is_refused(self, dns: LoopbackDNS) -> None:
        dns.add_a("rebind.example.test", "93.184.216.34")
        dns.add_a("rebind.example.test", "10.1.2.3")
        settings = guarded(dns)
        with pytest.raises(UnsafeWebhookUrlError, match=r"10\.1\.2\.3: private network"):
            await check_destination("https://rebind.example.test/hook", settings, make_resolver(settings))

    async def test_a_name_resolving_to_nat64_of_metadata_is_refused(self, dns: LoopbackDNS) -> None:
        dns.add_aaaa("nat64.example.test", "64:ff9b::a9fe:a9fe")
        settings = guarded(dns)
        with pytest.raises(UnsafeWebhookUrlError, match=r"64:ff9b::a9fe:a9fe: NAT64"):
            await check_destination("https://nat64.example.test/hook", settings, make_resolver(settings))

    async def test_an_unresolvable_name_is_refused(self, dns: LoopbackDNS) -> None:
        settings = guarded(dns)
        with pytest.raises(UnsafeWebhookUrlError, match="does not resolve"):
            await check_destination("https://nowhere.example.test/", settings, make_resolver(settings))

    async def test_a_public_name_is_pinned_to_the_checked_address(self, dns: LoopbackDNS) -> None:
        dns.add_a("hooks.example.test", "93.184.216.34")
        settings = guarded(dns)
        target = await check_destination(
            "https://user:pw@hooks.example.test:8443/in?x=1", settings, make_resolver(settings)
        )
        assert target.url == "https://user:pw@93.184.216.34:8443/in?x=1"
        assert target.headers == {"Host": "hooks.example.test:8443"}
        assert target.extensions == {"sni_hostname": "hooks.example.test"}

    async def test_ipv6_only_names_are_pinned_in_brackets(self, dns: LoopbackDNS) -> None:
        dns.add_aaaa("v6.example.test", "2606:4700::1111")
        settings = guarded(dns)
        target = await check_destination("http://v6.example.test/in", settings, make_resolver(settings))
        assert target.url == "http://[2606:4700::1111]/in"
        assert target.extensions == {}

    async def test_allowed_private_networks_skip_the_check(self, dns: LoopbackDNS) -> None:
        settings = make_settings(DNS_NAMESERVERS=dns.nameserver_setting)
        target = await check_destination("http://10.0.0.1/hook", settings, make_resolver(settings))
        assert target.url == "http://10.0.0.1/hook"
        assert target.headers == {}
