"""``promtool test rules`` for every alert, with the test files generated from ``alerts.config`` thresholds
(docs/observability.md).

For each alert: every silent case (just below the threshold, minimum-volume guards) stays silent; every firing case
is still pending one minute before ``for`` has passed and then fires with exact labels and annotations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.config import duration_seconds
from alerts.rules import rule_groups
from tests.alerts.scenarios import SAMPLES, Scenario, scenarios
from tests.alerts.tools import PROMTOOL, needs_promtool, render_annotation, run

SCENARIOS = scenarios()
ALERT_RULES: dict[str, dict[str, Any]] = {
    rule["alert"]: rule for group in rule_groups()["groups"] for rule in group["rules"] if "alert" in rule
}


def expected_alerts(rule: dict[str, Any], scenario: Scenario, case: str, minute: int) -> list[dict[str, Any]]:
    annotations = rule["annotations"]
    out = []
    for expected in scenario.firing[case][1]:
        labels = {"severity": rule["labels"]["severity"], **expected.labels}
        value = expected.value_at(minute)
        out.append(
            {
                "exp_labels": labels,
                "exp_annotations": {
                    "summary": annotations["summary"],
                    "runbook_url": annotations["runbook_url"],
                    "description": render_annotation(annotations["description"], labels, value),
                },
            }
        )
    return out


def unit_test_file(rules_file: Path, scenario: Scenario) -> dict[str, Any]:
    rule = ALERT_RULES[scenario.alert]
    for_minutes = duration_seconds(rule["for"]) // 60
    before = for_minutes - 1
    after = for_minutes + scenario.settle_minutes + 2
    late = SAMPLES - 5
    assert after < late, "scenario needs more samples"
    name = scenario.alert

    def check(minute: int, alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        test: dict[str, Any] = {"eval_time": f"{minute}m", "alertname": name}
        if alerts:
            test["exp_alerts"] = alerts
        return test

    tests = [
        {
            "name": f"{name} silent: {case}",
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [check(after), check(late)],
        }
        for case, series in scenario.silent.items()
    ]
    tests += [
        {
            "name": f"{name} fires: {case}",
            "interval": "1m",
            "input_series": series,
            "alert_rule_test": [check(before), check(after, expected_alerts(rule, scenario, case, after))],
        }
        for case, (series, _) in scenario.firing.items()
    ]
    return {"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": tests}


def test_every_alert_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ALERT_RULES)


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=list(SCENARIOS))
def test_scenarios_cover_silence_and_firing(scenario: Scenario) -> None:
    assert scenario.silent, "each alert needs at least one just-below case"
    assert scenario.firing
    assert all(expected for _, expected in scenario.firing.values())


def is_ratio_or_latency(expr: str) -> bool:
    return " / " in expr or ":ratio" in expr or "histogram_quantile" in expr or ":p99" in expr


GUARDED = sorted(name for name, rule in ALERT_RULES.items() if is_ratio_or_latency(rule["expr"]))


def test_the_guarded_alerts_are_the_ones_expected() -> None:
    assert "ScaiSendDkimSigningSlow" in GUARDED
    assert "ScaiSendApi5xxRatioHigh" in GUARDED
    assert len(GUARDED) == 8


@pytest.mark.parametrize("alertname", GUARDED)
def test_every_ratio_and_latency_alert_has_a_minimum_volume_guard_tested_at_its_boundary(alertname: str) -> None:
    """Issue 16: a quantile or ratio over a handful of events pages a healthy stack. Each such alert ANDs a volume
    condition, and its promtool cases straddle that guard (silent just below, firing at or just above)."""
    assert " and " in ALERT_RULES[alertname]["expr"]
    scenario = SCENARIOS[alertname]
    assert any("minimum_volume" in case for case in scenario.silent), scenario.silent.keys()
    assert any("minimum_volume" in case for case in scenario.firing), scenario.firing.keys()


@needs_promtool
@pytest.mark.parametrize("alertname", sorted(SCENARIOS))
def test_alert_fires_only_above_threshold_and_after_for(alertname: str, rules_file: Path, tmp_path: Path) -> None:
    test_file = tmp_path / f"{alertname}.test.yaml"
    test_file.write_text(yaml.safe_dump(unit_test_file(rules_file, SCENARIOS[alertname]), sort_keys=False))
    result = run(PROMTOOL, "test", "rules", test_file)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_can_fail(rules_file: Path, tmp_path: Path) -> None:
    """A wrong expectation must make promtool exit non-zero, or the tests above prove nothing."""
    scenario = SCENARIOS["ScaiSendQueueDepthHigh"]
    document = unit_test_file(rules_file, scenario)
    firing = document["tests"][-1]["alert_rule_test"][-1]
    firing["exp_alerts"][0]["exp_labels"]["queue"] = "smtp:deliver"
    test_file = tmp_path / "wrong.test.yaml"
    test_file.write_text(yaml.safe_dump(document, sort_keys=False))
    assert run(PROMTOOL, "test", "rules", test_file).returncode != 0
