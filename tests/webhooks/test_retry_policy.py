"""The webhook retry schedule (docs/webhooks.md): +60, +300, +900, +3600, +7200 s, 6 attempts; auto-disable at 10."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scaisend.webhooks.retry_policy import MAX_ATTEMPTS, lease_until, next_attempt_at, retry_delay, should_disable

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class TestRetryDelay:
    def test_follows_the_documented_schedule(self) -> None:
        delays = [retry_delay(n) for n in range(1, 6)]
        assert delays == [timedelta(seconds=s) for s in (60, 300, 900, 3600, 7200)]

    def test_six_attempts_then_nothing(self) -> None:
        assert MAX_ATTEMPTS == 6
        assert retry_delay(6) is None
        assert next_attempt_at(6, NOW) is None

    def test_next_attempt_is_relative_to_the_failed_one(self) -> None:
        assert next_attempt_at(2, NOW) == NOW + timedelta(minutes=5)

    def test_attempts_start_at_one(self) -> None:
        with pytest.raises(ValueError, match="starts at 1"):
            retry_delay(0)


class TestHealth:
    def test_disable_at_ten_consecutive_failures(self) -> None:
        assert not should_disable(9)
        assert should_disable(10)

    def test_lease_outlasts_the_attempt(self) -> None:
        assert lease_until(NOW, 30) > NOW + timedelta(seconds=60)
