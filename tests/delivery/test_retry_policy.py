"""The D10 retry schedule as a pure function: schedule, jitter bounds, named waits, the deadline and expiry."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from scaisend.delivery.retry_policy import Expire, Retry, RetryPolicy, named_wait, next_attempt
from tests.harness.settings import make_settings

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
POLICY = RetryPolicy.from_settings(make_settings())


def decide(attempt: int, age: timedelta = MIN, wait: float | None = None, seed: int = 1) -> Retry:
    decision = next_attempt(POLICY, attempt=attempt, age=age, wait=wait, rng=random.Random(seed))
    assert isinstance(decision, Retry)
    return decision


class TestPolicyFromSettings:
    def test_default_schedule_and_max_age(self) -> None:
        assert POLICY.schedule == (5 * MIN, 10 * MIN, 20 * MIN, 40 * MIN, HOUR, 2 * HOUR)
        assert POLICY.max_age == 72 * HOUR

    def test_schedule_comes_from_the_setting(self) -> None:
        policy = RetryPolicy.from_settings(make_settings(SMTP_RETRY_SCHEDULE="30s,2m", SMTP_MAX_AGE="1h"))
        assert policy.schedule == (timedelta(seconds=30), 2 * MIN)
        assert policy.max_age == HOUR


class TestNextAttempt:
    @pytest.mark.parametrize(
        ("attempt", "base"),
        [
            (1, 5 * MIN),
            (2, 10 * MIN),
            (3, 20 * MIN),
            (4, 40 * MIN),
            (5, HOUR),
            (6, 2 * HOUR),
            (7, 2 * HOUR),
            (30, 2 * HOUR),
        ],
    )
    def test_follows_the_schedule_then_repeats_the_last(self, attempt: int, base: timedelta) -> None:
        for seed in range(50):
            delay = decide(attempt, seed=seed).delay
            assert base * 0.9 <= delay <= base * 1.1

    def test_jitter_spreads_within_ten_percent(self) -> None:
        delays = {decide(1, seed=seed).delay for seed in range(200)}
        assert len(delays) > 150
        assert min(delays) < 5 * MIN * 0.93
        assert max(delays) > 5 * MIN * 1.07

    def test_a_named_wait_replaces_the_schedule(self) -> None:
        for seed in range(50):
            decision = decide(6, wait=90.0, seed=seed)
            assert decision.honoured_wait
            assert timedelta(seconds=90) <= decision.delay <= timedelta(seconds=99)

    def test_a_named_wait_longer_than_the_schedule_is_honoured_too(self) -> None:
        assert decide(1, wait=3 * 3600.0).delay >= 3 * HOUR

    def test_the_last_retry_is_moved_to_the_deadline(self) -> None:
        decision = decide(20, age=72 * HOUR - 10 * MIN)
        assert decision.delay == 10 * MIN

    @pytest.mark.parametrize("age", [72 * HOUR, 72 * HOUR + timedelta(seconds=1), 100 * HOUR])
    def test_expires_at_max_age(self, age: timedelta) -> None:
        assert isinstance(next_attempt(POLICY, attempt=9, age=age, wait=None, rng=random.Random(1)), Expire)

    def test_same_rng_same_answer(self) -> None:
        assert decide(3, seed=42) == decide(3, seed=42)


class TestNamedWait:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("4.7.0 Greylisted, please try again in 90 seconds", 90.0),
            ("4.7.1 Try again in 5 minutes", 300.0),
            ("Service busy, retry after 2 hours", 7200.0),
            ("4.2.0 greylisted for 300s", 300.0),
            ("Please wait 10 mins", 600.0),
        ],
    )
    def test_reads_the_wait(self, text: str, seconds: float) -> None:
        assert named_wait(text) == seconds

    @pytest.mark.parametrize(
        "text",
        [
            "4.7.0 Try again later",
            "4.2.1 The user is receiving mail at a rate that prevents additional messages",
            "4.4.1 Connection timed out after 30",
            "try again in 3 days",
            "try again in 0 seconds",
        ],
    )
    def test_no_wait_named(self, text: str) -> None:
        assert named_wait(text) is None
