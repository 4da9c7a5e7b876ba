"""D8, D42: one address policy for connections whose destination a tenant or the internet chose (webhook URLs, MX
hosts), including the IPv6 forms that translate to IPv4 and that Python's ``ipaddress`` calls global."""

from __future__ import annotations

import ipaddress

import pytest

from scaisend.address_policy import forbidden_reason, parse_address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("fe80::1", "link-local (cloud metadata)"),
        ("10.0.0.1", "private network"),
        ("192.168.1.1", "private network"),
        ("172.16.0.1", "private network"),
        ("fd00:ec2::254", "private network"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "reserved, not globally routable"),
        ("::ffff:10.0.0.1", "private network"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
        ("192.0.2.1", "private network"),
        # the forms ipaddress calls global (issue 9, finding 6)
        ("64:ff9b::a9fe:a9fe", "NAT64"),
        ("64:ff9b::808:808", "NAT64"),  # even of a public address: the translator is someone's network
        ("64:ff9b:1::1", "NAT64 (local use)"),
        ("2002:7f00:1::1", "6to4"),
        ("2002:a9fe:a9fe::1", "6to4"),
        ("::7f00:1", "IPv4-compatible IPv6"),
        ("::a9fe:a9fe", "IPv4-compatible IPv6"),
        ("fec0::1", "site-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ],
)
def test_refuses_non_public_addresses(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2a00:1450:4001:80b::200e"])
def test_accepts_public_addresses(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_parse_address() -> None:
    assert parse_address("::1") == ipaddress.ip_address("::1")
    assert parse_address("mx.example.com") is None
