"""formatDate's tokens, inputs and offsets (D15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from scaisend.templates.date_format import format_date, parse_offset, parse_timestamp

MOMENT = "2018-02-04T21:05:09.123Z"  # a Sunday


class TestFormatDate:
    @pytest.mark.parametrize(
        ("pattern", "expected"),
        [
            ("YYYY YY", "2018 18"),
            ("MMMM MMM MM M", "February Feb 02 2"),
            ("DD D Do", "04 4 4th"),
            ("dddd ddd", "Sunday Sun"),
            ("HH H hh h", "21 21 09 9"),
            ("mm m ss s SSS", "05 5 09 9 123"),
            ("A a", "PM pm"),
            ("ZZ Z", "+0000 +00:00"),
            ("[Today is] dddd", "Today is Sunday"),
            ("YYYY-MM-DDTHH:mm:ss", "2018-02-04T21:05:09"),
        ],
    )
    def test_tokens(self, pattern: str, expected: str) -> None:
        assert format_date(MOMENT, pattern) == expected

    def test_offset_moves_the_clock_and_the_zone(self) -> None:
        assert format_date(MOMENT, "YYYY-MM-DD HH:mm Z", "+05:30") == "2018-02-05 02:35 +05:30"
        assert format_date(MOMENT, "h A ZZ", "-0800") == "1 PM -0800"

    def test_bad_offset_means_utc(self) -> None:
        assert format_date(MOMENT, "HH", "PST") == "21"

    @pytest.mark.parametrize("day", [1, 2, 3, 11, 12, 13, 21, 22, 23, 31])
    def test_ordinals(self, day: int) -> None:
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}.get(day, "th")
        assert format_date(f"2018-01-{day:02d}", "Do") == f"{day}{suffix}"


class TestParseTimestamp:
    def test_forms(self) -> None:
        expected = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
        assert parse_timestamp(1_700_000_000) == expected
        assert parse_timestamp(1_700_000_000_000) == expected  # JavaScript milliseconds
        assert parse_timestamp("1700000000") == expected
        assert parse_timestamp("2023-11-14T22:13:20Z") == expected
        assert parse_timestamp("2023-11-14T23:13:20+01:00") == expected
        assert parse_timestamp("2023-11-14 22:13:20") == expected  # naive means UTC
        assert parse_timestamp("2023-11-14") == datetime(2023, 11, 14, tzinfo=UTC)

    @pytest.mark.parametrize("value", [None, True, "", "tomorrow", float("nan"), 1e30, [], {}])
    def test_rejects(self, value: object) -> None:
        assert parse_timestamp(value) is None


class TestParseOffset:
    def test_forms(self) -> None:
        assert parse_offset("-0800") == timezone(-timedelta(hours=8))
        assert parse_offset("+05:30") == timezone(timedelta(hours=5, minutes=30))
        assert parse_offset("Z") == UTC
        assert parse_offset("+2500") is None
        assert parse_offset(-800) is None
