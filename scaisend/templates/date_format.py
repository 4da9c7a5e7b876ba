"""``formatDate`` for dynamic templates (D15): SendGrid's moment-style tokens over an ISO-8601 or Unix timestamp,
optionally shifted to a fixed UTC offset (``{{formatDate timeStamp "YYYY-MM-DD HH:mm:ss" "-0800"}}``).

Tokens: ``YYYY YY MMMM MMM MM M Do DD D dddd ddd HH H hh h mm m ss s SSS A a ZZ Z``; text in ``[brackets]`` is copied
as is (as in moment.js a bracket cannot hold ``[``: in ``[a[b]`` only ``[b]`` is a bracket, the first ``[`` is copied
and ``a`` is a token), anything else passes through. Names are English. Unparseable input formats to the empty string,
like any other missing value, rather than failing the message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Linear in Python's re: literal tokens, and a bracket that cannot run past the next "[" (moment.js's own rule), so
# the scans of unclosed brackets never overlap ("[" * n was quadratic with [^\]]*).
_TOKEN = re.compile(r"\[([^\[]*?)\]|YYYY|YY|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|SSS|A|a|ZZ|Z")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_MILLISECONDS_FROM = 100_000_000_000  # numbers this large are JavaScript milliseconds, smaller ones Unix seconds


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from a datetime, a date, Unix seconds (or milliseconds), or an ISO-8601 string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        seconds = value / 1000 if abs(value) >= _MILLISECONDS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return parse_timestamp(float(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_offset(value: Any) -> timezone | None:
    """A fixed offset from ``-0800``, ``+05:30`` or ``Z``; None when absent or malformed."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in ("Z", "z", "UTC"):
        return UTC
    match = _OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta >= timedelta(hours=24) or int(minutes) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _offset(moment: datetime, colon: bool) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


_FIELDS: dict[str, Callable[[datetime], str]] = {
    "YYYY": lambda t: f"{t.year:04d}",
    "YY": lambda t: f"{t.year % 100:02d}",
    "MMMM": lambda t: _MONTHS[t.month - 1],
    "MMM": lambda t: _MONTHS[t.month - 1][:3],
    "MM": lambda t: f"{t.month:02d}",
    "M": lambda t: str(t.month),
    "Do": lambda t: _ordinal(t.day),
    "DD": lambda t: f"{t.day:02d}",
    "D": lambda t: str(t.day),
    "dddd": lambda t: _DAYS[t.weekday()],
    "ddd": lambda t: _DAYS[t.weekday()][:3],
    "HH": lambda t: f"{t.hour:02d}",
    "H": lambda t: str(t.hour),
    "hh": lambda t: f"{_hour12(t):02d}",
    "h": lambda t: str(_hour12(t)),
    "mm": lambda t: f"{t.minute:02d}",
    "m": lambda t: str(t.minute),
    "ss": lambda t: f"{t.second:02d}",
    "s": lambda t: str(t.second),
    "SSS": lambda t: f"{t.microsecond // 1000:03d}",
    "A": lambda t: "AM" if t.hour < 12 else "PM",
    "a": lambda t: "am" if t.hour < 12 else "pm",
    "ZZ": lambda t: _offset(t, colon=False),
    "Z": lambda t: _offset(t, colon=True),
}


def format_date(value: Any, pattern: Any, offset: Any = None) -> str:
    """``value`` formatted with ``pattern``, in UTC or at ``offset``; "" when ``value`` is not a timestamp."""
    moment = parse_timestamp(value)
    if moment is None or not isinstance(pattern, str):
        return ""
    moment = moment.astimezone(parse_offset(offset) or UTC)
    return _TOKEN.sub(lambda m: m.group(1) if m.group(1) is not None else _FIELDS[m.group(0)](moment), pattern)
