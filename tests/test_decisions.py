"""docs/decisions.md stays the place decision numbers point to: every ``D<n>`` the code or docs cite has a record, and
every link in it reaches an existing page and heading (the docstrings name its pages in place of the design notes' sections)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DECISIONS = (DOCS / "decisions.md").read_text()
CITING = ("scaisend", "exporter", "alerts", "dashboards", "deploy", "docs")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", page.read_text(), re.MULTILINE)}


def test_every_cited_decision_has_a_record() -> None:
    recorded = set(re.findall(r"^### (D\d+)$", DECISIONS, re.MULTILINE))
    cited: dict[str, str] = {}
    for top in CITING:
        for path in (ROOT / top).rglob("*"):
            if path.suffix in (".py", ".md") and "out" not in path.parts:
                for number in re.findall(r"\bD(\d{1,2})\b", path.read_text(encoding="utf-8")):
                    cited.setdefault(f"D{number}", str(path.relative_to(ROOT)))
    assert {"D1", "D20"} <= recorded
    missing = {number: where for number, where in cited.items() if number not in recorded}
    assert missing == {}


def test_records_are_numbered_in_order() -> None:
    # parallel work takes numbers from reserved ranges (D41-D44, D45-D49, …), so a gap is allowed; order is not
    numbers = [int(n) for n in re.findall(r"^### D(\d+)$", DECISIONS, re.MULTILINE)]
    assert numbers == sorted(set(numbers))
    assert numbers[:30] == list(range(1, 31))


def test_every_link_reaches_a_page_and_heading() -> None:
    broken = []
    links = re.findall(r"\]\(([^)#\s]+\.md)?(#[^)\s]+)?\)", DECISIONS)
    assert len(links) > 50
    for target in links:
        page = DOCS / target[0] if target[0] else DOCS / "decisions.md"
        if not page.exists() or (target[1] and target[1][1:] not in _anchors(page)):
            broken.append(target)
    assert broken == []
