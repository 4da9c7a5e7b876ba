"""``docs/observability.md`` names every metric, alert, recording rule and dashboard it documents, so a rename in code
without a docs update fails (D22, D23)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.config import CONFIG
from alerts.rules import alerts, groups
from dashboards.generate import all_dashboards
from scaisend.metrics import CATALOGUE

DOC = (Path(__file__).resolve().parents[2] / "docs" / "observability.md").read_text(encoding="utf-8")
NAMES = [
    *(spec.name for spec in CATALOGUE),
    *(alert.name for alert in alerts()),
    *(rule.record for group in groups() for rule in group.rules if hasattr(rule, "record")),
    *all_dashboards(),
    CONFIG.pager_receiver,
    CONFIG.ticket_receiver,
]


@pytest.mark.parametrize("name", NAMES)
def test_observability_doc_mentions(name: str) -> None:
    assert name in DOC
