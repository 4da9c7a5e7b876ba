"""The bounded caches of the delivery runtime (D67): MX routes and addresses and the TLS policy's memory expire by
the injected clock and hold at most a fixed number of entries; html_to_text's cache weighs bodies in bytes."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import timedelta

from scaisend.clock import ManualClock
from scaisend.delivery.expiring_cache import MAX_ENTRIES, expiring_cache
from scaisend.delivery.tls_policy import TlsPlan, TlsPolicy
from scaisend.templates.html_to_text import cached_bytes


def test_entries_expire_by_the_injected_clock() -> None:
    clock = ManualClock()
    cache: MutableMapping[str, str] = expiring_cache(clock, timedelta(seconds=60))
    cache["example.com"] = "mx.example.com"

    clock.advance(59)
    assert cache.get("example.com") == "mx.example.com"
    clock.advance(1)
    assert cache.get("example.com") is None


def test_at_most_maxsize_entries_least_recently_used_out() -> None:
    cache = expiring_cache(ManualClock(), timedelta(hours=1), maxsize=3)
    for name in ("a", "b", "c"):
        cache[name] = name
    assert cache.get("a") == "a"  # a is now the most recently used
    cache["d"] = "d"

    assert sorted(cache) == ["a", "c", "d"]


def test_the_tls_memory_is_bounded_and_forgets_by_the_clock() -> None:
    clock = ManualClock()
    policy = TlsPolicy("opportunistic", clock, plaintext_memory=timedelta(minutes=10))
    for n in range(MAX_ENTRIES + 50):
        policy.starttls_failed(f"mx{n}.example.com")

    assert policy.plan("mx0.example.com") is TlsPlan.OPPORTUNISTIC  # the oldest fell out
    assert policy.plan(f"mx{MAX_ENTRIES + 49}.example.com") is TlsPlan.PLAINTEXT
    clock.advance(timedelta(minutes=10))
    assert policy.plan(f"mx{MAX_ENTRIES + 49}.example.com") is TlsPlan.OPPORTUNISTIC


def test_html_to_text_weighs_a_body_by_its_bytes_not_its_length() -> None:
    ascii_body, emoji_body = "a" * 10_000, "\U0001f600" * 10_000

    assert cached_bytes(emoji_body, "") - cached_bytes("", "") >= 4 * 10_000
    assert cached_bytes(emoji_body, "") > 3 * cached_bytes(ascii_body, "")
