"""The generated rule file: promtool accepts it, every alert follows the mixin guidelines, every metric it reads is
in the catalogue, and the committed copy is fresh (docs/observability.md, docs/architecture.md, D22, D23)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import generate
from alerts.config import CONFIG, duration_seconds
from alerts.rules import alerts, rule_groups
from tests.alerts.promql import COMPARISONS, COUNTER_SUFFIXES, inspect, known_metric_names
from tests.alerts.tools import PROMTOOL, needs_promtool, run

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks.md"
RULES: list[dict[str, Any]] = [rule for group in rule_groups()["groups"] for rule in group["rules"]]
ALERT_RULES = [rule for rule in RULES if "alert" in rule]
RECORDING_RULES = [rule for rule in RULES if "record" in rule]


def by_alert(rule: dict[str, Any]) -> str:
    return str(rule["alert"])


def github_anchor(heading: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_anchors() -> set[str]:
    text = RUNBOOKS.read_text(encoding="utf-8")
    return {github_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


class TestPromtool:
    @needs_promtool
    def test_check_rules_with_all_lints_fatal(self, rules_file: Path) -> None:
        result = run(PROMTOOL, "check", "rules", "--lint=all", "--lint-fatal", rules_file)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"SUCCESS: {len(RULES)} rules found" in result.stdout

    @needs_promtool
    def test_check_rules_rejects_a_broken_expression(self, tmp_path: Path) -> None:
        broken = {"groups": [{"name": "x", "rules": [{**ALERT_RULES[0], "expr": "sum(rate(up[5m])"}]}]}
        path = tmp_path / "broken.yaml"
        path.write_text(yaml.safe_dump(broken))
        assert run(PROMTOOL, "check", "rules", path).returncode != 0


class TestAlertStyle:
    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_name_is_camelcase_with_product_prefix(self, rule: dict[str, Any]) -> None:
        assert re.fullmatch(r"([A-Z]+[a-z0-9]+)+", rule["alert"])
        assert rule["alert"].startswith("ScaiSend")

    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_severity_is_critical_or_warning(self, rule: dict[str, Any]) -> None:
        assert rule["labels"] == {"severity": rule["labels"]["severity"]}
        assert rule["labels"]["severity"] in {"critical", "warning"}

    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_summary_is_a_static_sentence(self, rule: dict[str, Any]) -> None:
        summary = rule["annotations"]["summary"]
        assert re.fullmatch(r"[A-Z].+\.", summary)
        assert "{{" not in summary

    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_description_is_templated(self, rule: dict[str, Any]) -> None:
        assert re.search(r"\{\{.+\}\}", rule["annotations"]["description"])

    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_runbook_url_points_at_an_existing_anchor(self, rule: dict[str, Any]) -> None:
        url = rule["annotations"]["runbook_url"]
        base, _, anchor = url.partition("#")
        assert base == CONFIG.runbook_base_url
        assert anchor == rule["alert"].lower()
        assert anchor in runbook_anchors(), f"docs/runbooks.md has no heading {rule['alert']}"

    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_expression_compares_something(self, rule: dict[str, Any]) -> None:
        """A bare expression fires whenever it has a value (pint alerts/comparison); absent() is its own test."""
        found = inspect(rule["expr"])
        assert found.operators & COMPARISONS or "absent" in found.functions

    @pytest.mark.parametrize("rule", ALERT_RULES, ids=by_alert)
    def test_for_is_set(self, rule: dict[str, Any]) -> None:
        assert duration_seconds(rule["for"]) >= 60

    def test_tenant_alerts_keep_the_tenant_label(self) -> None:
        tenant_alerts = [rule for rule in ALERT_RULES if "Tenant" in rule["alert"]]
        assert len(tenant_alerts) == 2
        for rule in tenant_alerts:
            assert "by (tenant)" in rule["expr"]
            assert "on (tenant)" in rule["expr"]
            assert "$labels.tenant" in rule["annotations"]["description"]

    def test_names_are_unique(self) -> None:
        names = [rule["alert"] for rule in ALERT_RULES] + [rule["record"] for rule in RECORDING_RULES]
        assert len(names) == len(set(names))
        assert len({group["name"] for group in rule_groups()["groups"]}) == len(rule_groups()["groups"])

    def test_every_runbook_section_belongs_to_an_alert(self) -> None:
        """No stale runbook sections once an alert is renamed or removed."""
        text = RUNBOOKS.read_text(encoding="utf-8")
        sections = set(re.findall(r"^## (ScaiSend\w+)$", text, flags=re.MULTILINE))
        assert sections == {alert.name for alert in alerts()}


class TestMetricsUsed:
    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.get("alert") or r["record"])
    def test_every_metric_is_in_the_catalogue(self, rule: dict[str, Any]) -> None:
        unknown = inspect(rule["expr"]).metrics - known_metric_names()
        assert not unknown, f"not in scaisend/metrics.py nor allow-listed: {unknown}"

    @pytest.mark.parametrize("rule", RULES, ids=lambda r: r.get("alert") or r["record"])
    def test_rate_only_on_counters(self, rule: dict[str, Any]) -> None:
        for name in inspect(rule["expr"]).rated_metrics:
            assert name.endswith(COUNTER_SUFFIXES), f"rate()/increase() on non-counter {name}"

    @pytest.mark.parametrize("rule", RECORDING_RULES, ids=lambda r: r["record"])
    def test_recording_rule_names_are_level_metric_operation(self, rule: dict[str, Any]) -> None:
        level, metric, operation = rule["record"].split(":")
        assert re.fullmatch(r"[a-z_]+", level)
        assert metric.startswith("scaisend_")
        assert re.fullmatch(r"[a-z0-9_]+", operation)

    def test_unknown_metric_is_detected(self) -> None:
        assert inspect("rate(scaisend_no_such_metric_total[5m]) > 0").metrics - known_metric_names()


class TestGeneratedFiles:
    @pytest.mark.parametrize("name", [generate.RULES_FILE, generate.ALERTMANAGER_FILE])
    def test_committed_output_is_fresh(self, name: str, generated_dir: Path) -> None:
        committed = generate.OUT_DIR / name
        assert committed.exists(), "run `python -m alerts.generate`"
        assert committed.read_text(encoding="utf-8") == (generated_dir / name).read_text(encoding="utf-8"), (
            f"alerts/out/{name} is stale: run `python -m alerts.generate`"
        )

    def test_output_is_deterministic(self) -> None:
        assert generate.render() == generate.render()

    def test_output_parses_back_to_the_dicts(self, rules_file: Path) -> None:
        assert yaml.safe_load(rules_file.read_text(encoding="utf-8")) == rule_groups()
