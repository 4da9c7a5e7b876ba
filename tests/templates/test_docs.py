"""docs/templates.md stays true: every row of its helper table renders to the result it shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scaisend.templates.renderer import render_dynamic

DOC = Path(__file__).resolve().parents[2] / "docs" / "templates.md"
ROW = re.compile(r"^\| [^|]+ \| `(?P<source>[^`]+)` \| `(?P<data>[^`]+)` → `(?P<result>[^`]+)` \|$")


def _rows() -> list[tuple[str, str, str]]:
    section = DOC.read_text().split("### Helpers (D15)", 1)[1].split("\n### ", 1)[0]
    return [(m["source"], m["data"], m["result"]) for line in section.splitlines() if (m := ROW.match(line))]


def test_the_table_lists_every_helper() -> None:
    sources = " ".join(source for source, _, _ in _rows())
    for helper in (
        "#if",
        "else if",
        "#unless",
        "#each",
        "@index",
        "#with",
        "#equals",
        "#notEquals",
        "#and",
        "#or",
        "#greaterThan",
        "#lessThan",
        "length",
        "formatDate",
        "insert",
    ):
        assert helper in sources, helper


@pytest.mark.parametrize(("source", "data", "result"), _rows())
def test_each_documented_example_renders_as_shown(source: str, data: str, result: str) -> None:
    rendered = render_dynamic(subject=None, html=source, text=None, preheader=None, data=json.loads(data))
    assert rendered.html == result
