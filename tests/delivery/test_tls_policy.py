"""D13: the TLS plan per host, and the plaintext memory after a failed opportunistic handshake."""

from __future__ import annotations

import ssl
from datetime import timedelta

import pytest

from scaisend.clock import ManualClock
from scaisend.delivery.tls_policy import PLAINTEXT_MEMORY, TlsPlan, TlsPolicy


class TestPlan:
    def test_opportunistic_until_a_handshake_fails_then_plaintext_for_a_while(self) -> None:
        clock = ManualClock()
        policy = TlsPolicy("opportunistic", clock)
        assert policy.plan("mx.example.com") is TlsPlan.OPPORTUNISTIC
        policy.starttls_failed("MX.example.com")
        assert policy.plan("mx.example.com") is TlsPlan.PLAINTEXT
        assert policy.plan("other.example.com") is TlsPlan.OPPORTUNISTIC
        clock.advance(PLAINTEXT_MEMORY - timedelta(seconds=1))
        assert policy.plan("mx.example.com") is TlsPlan.PLAINTEXT
        clock.advance(timedelta(seconds=2))
        assert policy.plan("mx.example.com") is TlsPlan.OPPORTUNISTIC

    def test_required_never_falls_back(self) -> None:
        policy = TlsPolicy("required", ManualClock())
        policy.starttls_failed("mx.example.com")
        assert policy.plan("mx.example.com") is TlsPlan.REQUIRED

    def test_unknown_mode_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown TLS policy"):
            TlsPolicy("dane", ManualClock())


class TestContext:
    def test_opportunistic_does_not_verify_and_required_does(self) -> None:
        policy = TlsPolicy("opportunistic", ManualClock())
        loose = policy.context(TlsPlan.OPPORTUNISTIC)
        strict = policy.context(TlsPlan.REQUIRED)
        assert (loose.verify_mode, loose.check_hostname) == (ssl.CERT_NONE, False)
        assert (strict.verify_mode, strict.check_hostname) == (ssl.CERT_REQUIRED, True)
