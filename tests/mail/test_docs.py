"""docs/sending.md stays true: its limits table shows the numbers the validation enforces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scaisend.mail import validation as v

DOC = Path(__file__).resolve().parents[2] / "docs" / "sending.md"
LIMITS = {
    "personalizations per request": f"1–{v.MAX_PERSONALIZATIONS}",
    "`to` per personalization": f"1–{v.MAX_RECIPIENTS}",
    "recipients per request": str(v.MAX_RECIPIENTS),
    "address length": f"{v.MAX_EMAIL_LENGTH} characters",
    "display name": f"{v.MAX_NAME_LENGTH} characters",
    "subject": f"1–{v.MAX_SUBJECT_LENGTH} characters",
    "custom header value": f"{v.MAX_HEADER_VALUE_LENGTH} characters",
    "attachments": str(v.MAX_ATTACHMENTS),
    "attachment filename": f"1–{v.MAX_FILENAME_LENGTH} characters",
    "categories": f"{v.MAX_CATEGORIES}, each at most {v.MAX_CATEGORY_LENGTH}",
    "`asm.groups_to_display`": str(v.MAX_GROUPS_TO_DISPLAY),
    "substitutions per personalization": f"{v.MAX_SUBSTITUTIONS}, together at most {v.MAX_SUBSTITUTIONS_BYTES} bytes",
    "custom_args": f"{v.MAX_CUSTOM_ARGS_BYTES} bytes",
    "`send_at`": f"at most {int(v.MAX_SCHEDULE_AHEAD.total_seconds() // 3600)} hours ahead",
}


def _rows() -> dict[str, str]:
    table = DOC.read_text().split("### Rules", 1)[1].split("\nAnd:", 1)[0]
    rows = (re.match(r"^\| (?P<item>[^|]+) \| (?P<value>[^|]+) \|$", line) for line in table.splitlines())
    return {m["item"].strip(): m["value"].strip() for m in rows if m}


@pytest.mark.parametrize(("item", "value"), LIMITS.items())
def test_the_limits_table_shows_the_enforced_value(item: str, value: str) -> None:
    row = next((text for label, text in _rows().items() if label.startswith(item)), None)
    assert row is not None, f"no row for {item}"
    assert row.startswith(value), (item, row)


def test_every_reserved_header_is_documented() -> None:
    text = DOC.read_text().lower()
    for name in v.RESERVED_HEADERS:
        assert f"`{name}`" in text, name
