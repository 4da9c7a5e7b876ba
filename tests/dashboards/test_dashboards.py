"""The six dashboards: a mini dashboard-linter (docs/observability.md, modelled on grafana/dashboard-linter's rules),
PromQL parsing and catalogue cross-check of every query, a LogQL shape check of the request logs panels (their
selector uses only the labels the bundle's Alloy sets, D59), the alert thresholds drawn on the panels, and freshness
of ``dashboards/out/`` (docs/deploy.md, D22, D23)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.config import CONFIG
from dashboards import common, generate
from dashboards.generate import all_dashboards
from scaisend.logs import SHIPPED_LABELS
from tests.alerts.promql import COUNTER_SUFFIXES, expand_grafana_variables, inspect, known_metric_names
from tests.dashboards.logql import parse_log_query

DASHBOARDS = all_dashboards()
EXPECTED_UIDS = {
    "scaisend-send-delivery",
    "scaisend-bounces",
    "scaisend-spam-reports",
    "scaisend-queues",
    "scaisend-api-latency",
    "scaisend-engagement",
}
PANEL_TYPES = {"timeseries", "stat", "logs"}
LOGS_PANEL = "logs"
# grafana/dashboard-linter lint/rule_panel_units.go (subset we may use)
UNITS = {"short", "percent", "percentunit", "s", "ms", "reqps", "ops", "rps", "none", "bytes"}
_RATE_RANGE = re.compile(r"\b(?:rate|irate)\([^\[]*\[([^\]]+)\]")
_TENANT_METRIC = re.compile(r"scaisend_tenant_\w+")


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def expressions(dashboard: dict[str, Any]) -> Iterator[str]:
    """The PromQL of every metrics panel."""
    for panel in panels(dashboard):
        if panel.get("type") != LOGS_PANEL:
            for target in panel.get("targets", []):
                yield target["expr"]


def log_expressions(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in panels(dashboard):
        if panel.get("type") == LOGS_PANEL:
            for target in panel.get("targets", []):
                yield target["expr"]


def variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


# --- the mini linter: each rule returns its problems -----------------------------------------------------------------
def rule_schema(d: dict[str, Any]) -> list[str]:
    problems = []
    if d.get("schemaVersion") != common.SCHEMA_VERSION:
        problems.append(f"schemaVersion {d.get('schemaVersion')} != {common.SCHEMA_VERSION}")
    if d.get("rows"):
        problems.append("legacy rows")
    if not d.get("uid") or not d.get("title"):
        problems.append("dashboard without uid or title")
    return problems


def rule_template_datasource(d: dict[str, Any]) -> list[str]:
    ds = variables(d).get("datasource")
    if not ds or ds["type"] != "datasource" or ds["query"] != "prometheus" or ds["label"] != "Data source":
        return ["no datasource variable named 'datasource' labelled 'Data source'"]
    return []


def rule_tenant_variable(d: dict[str, Any]) -> list[str]:
    tenant = variables(d).get("tenant")
    if not tenant or tenant["type"] != "query" or tenant["datasource"] != common.DATASOURCE:
        return ["no tenant query variable on ${datasource}"]
    if not (tenant["multi"] and tenant["includeAll"]):
        return ["tenant variable must be multi-select with All"]
    return []


def rule_panel_datasource(d: dict[str, Any]) -> list[str]:
    problems = []
    for panel in panels(d):
        expected = common.LOGS_DATASOURCE if panel.get("type") == LOGS_PANEL else common.DATASOURCE
        if panel.get("datasource") != expected:
            problems.append(f"panel {panel.get('title')!r} does not use {expected['uid']}")
        problems += [
            f"target {t.get('refId')} of {panel.get('title')!r} does not use {expected['uid']}"
            for t in panel.get("targets", [])
            if t.get("datasource") != expected
        ]
    return problems


def rule_panels(d: dict[str, Any]) -> list[str]:
    problems = []
    ids = [panel.get("id") for panel in panels(d)]
    if None in ids or len(ids) != len(set(ids)):
        problems.append(f"panel ids missing or not unique: {ids}")
    for panel in panels(d):
        title = panel.get("title")
        if not title:
            problems.append("panel without title")
        if panel.get("type") not in PANEL_TYPES:
            problems.append(f"panel {title!r} has type {panel.get('type')!r}")
        if panel.get("type") != LOGS_PANEL and panel["fieldConfig"]["defaults"].get("unit") not in UNITS:
            problems.append(f"panel {title!r} has no known unit")
        if not panel.get("targets"):
            problems.append(f"panel {title!r} has no query")
    return problems


def rule_grid(d: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    occupied: set[tuple[int, int]] = set()
    for panel in panels(d):
        pos = panel.get("gridPos") or {}
        if not pos or pos["x"] < 0 or pos["w"] <= 0 or pos["x"] + pos["w"] > common.GRID_WIDTH:
            problems.append(f"panel {panel.get('title')!r} outside the 24-column grid: {pos}")
            continue
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        if cells & occupied:
            problems.append(f"panel {panel.get('title')!r} overlaps another")
        occupied |= cells
    return problems


def rule_queries(d: dict[str, Any]) -> list[str]:
    problems = []
    for expr in expressions(d):
        problems += [
            f"rate range {r!r} is not $__rate_interval in {expr}" for r in _RATE_RANGE.findall(expr) if r != common.RATE
        ]
        if _TENANT_METRIC.search(expr) and "$tenant" not in expr:
            problems.append(f"tenant metric without the tenant variable: {expr}")
        try:
            found = inspect(expand_grafana_variables(expr))
        except ValueError as exc:
            problems.append(f"does not parse ({exc}): {expr}")
            continue
        problems += [f"unknown metric {m} in {expr}" for m in found.metrics - known_metric_names()]
        problems += [f"rate() on non-counter {m}" for m in found.rated_metrics if not m.endswith(COUNTER_SUFFIXES)]
    return problems


def rule_logs(d: dict[str, Any]) -> list[str]:
    """A logs panel reads the ``logs`` Loki datasource variable, filters by the ``request_id`` text box, and its
    LogQL parses with a selector on shipped labels only (D59)."""
    queries = list(log_expressions(d))
    if not queries:
        return []
    problems = []
    found = variables(d)
    logs, request_id = found.get("logs"), found.get("request_id")
    if not logs or logs["type"] != "datasource" or logs["query"] != "loki":
        problems.append("logs panel without a 'logs' Loki datasource variable")
    if not request_id or request_id["type"] != "textbox":
        problems.append("logs panel without a 'request_id' text box variable")
    for query in queries:
        try:
            shape = parse_log_query(query)
        except ValueError as exc:
            problems.append(f"LogQL does not parse ({exc}): {query}")
            continue
        problems += [
            f"selector label {label} is not shipped" for label in set(shape.selector_labels) - set(SHIPPED_LABELS)
        ]
        if not shape.parsed or 'request_id="$request_id"' not in query:
            problems.append(f"logs query does not filter the parsed request_id by $request_id: {query}")
    return problems


RULES: list[Callable[[dict[str, Any]], list[str]]] = [
    rule_schema,
    rule_template_datasource,
    rule_tenant_variable,
    rule_panel_datasource,
    rule_panels,
    rule_grid,
    rule_queries,
    rule_logs,
]


def lint(dashboard: dict[str, Any]) -> list[str]:
    return [problem for rule in RULES for problem in rule(dashboard)]


# --- tests -----------------------------------------------------------------------------------------------------------
def test_the_six_dashboards_of_the_operations_guide() -> None:
    assert set(DASHBOARDS) == EXPECTED_UIDS
    assert len({d["title"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)


@pytest.mark.parametrize("uid", sorted(EXPECTED_UIDS))
def test_dashboard_passes_the_linter(uid: str) -> None:
    assert lint(DASHBOARDS[uid]) == []


def _mutate(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = d
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return apply


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schemaVersion", 12),
        ("rows", [{"panels": []}]),
        ("panels.0.datasource", "Prometheus"),
        ("panels.0.targets.0.datasource", None),
        ("panels.1.id", 1),
        ("panels.0.type", "graph"),
        ("panels.0.gridPos.w", 30),
        ("panels.1.gridPos.y", 0),
        ("panels.0.targets.0.expr", "sum(rate(scaisend_tenant_bounces_today[5m]))"),
        ("panels.0.targets.0.expr", "sum(rate(scaisend_http_requests_total[5m]))"),
        ("panels.0.targets.0.expr", "sum(rate(scaisend_nonexistent_total[$__rate_interval]))"),
        ("panels.0.targets.0.expr", "sum(rate(scaisend_http_requests_total[$__rate_interval])"),
        ("templating.list.0.type", "custom"),
        ("templating.list.1.multi", False),
    ],
)
def test_linter_catches(path: str, value: Any) -> None:
    broken = copy.deepcopy(DASHBOARDS["scaisend-bounces"])
    _mutate(path, value)(broken)
    assert lint(broken)


REQUEST_LOGS = {"scaisend-api-latency": {"api", "worker", "smtp"}, "scaisend-send-delivery": {"worker", "smtp"}}


@pytest.mark.parametrize(("uid", "services"), sorted(REQUEST_LOGS.items()))
def test_request_logs_panel_follows_one_request(uid: str, services: set[str]) -> None:
    [query] = log_expressions(DASHBOARDS[uid])
    assert parse_log_query(query).selector_labels == ("service",)
    assert set(re.search(r'service=~"([^"]+)"', query).group(1).split("|")) == services  # type: ignore[union-attr]
    assert {"logs", "request_id"} <= variables(DASHBOARDS[uid]).keys()


def test_only_the_request_dashboards_have_logs() -> None:
    assert {uid for uid, d in DASHBOARDS.items() if list(log_expressions(d))} == set(REQUEST_LOGS)


def _last_target(d: dict[str, Any]) -> dict[str, Any]:
    target: dict[str, Any] = d["panels"][-1]["targets"][0]
    return target


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: _last_target(d).update(expr='{service=~"api"} | json | request_id="$request_id'),  # unclosed string
        lambda d: _last_target(d).update(expr='{service=~"api"} | request_id="$request_id"'),  # no parser
        lambda d: _last_target(d).update(expr='{request_id="$request_id"}'),  # an unshipped label
        lambda d: _last_target(d).update(expr='{} | json | request_id="$request_id"'),
        lambda d: _last_target(d).update(expr='sum(rate({service="api"}[5m]))'),
        lambda d: _last_target(d).update(expr='{service=~"api"} | json'),
        lambda d: _last_target(d).update(datasource=common.DATASOURCE),
        lambda d: d["templating"]["list"].pop(),
    ],
)
def test_logs_rule_catches(breakage: Callable[[dict[str, Any]], None]) -> None:
    broken = copy.deepcopy(DASHBOARDS["scaisend-api-latency"])
    assert lint(broken) == []
    breakage(broken)
    assert lint(broken)


def test_tenant_variable_reads_a_catalogue_metric() -> None:
    for dashboard in DASHBOARDS.values():
        query = variables(dashboard)["tenant"]["query"]
        metric = re.fullmatch(r"label_values\((\w+)\{.*\}, tenant\)", query)
        assert metric
        assert metric.group(1) in known_metric_names()


def _threshold_lines(dashboard: dict[str, Any]) -> set[float]:
    return {
        step["value"]
        for panel in panels(dashboard)
        if panel["type"] == "timeseries"
        and panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "line"
        for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        if step["value"] is not None
    }


@pytest.mark.parametrize(
    ("uid", "threshold"),
    [
        ("scaisend-spam-reports", CONFIG.tenant_spam_report_rate),
        ("scaisend-bounces", CONFIG.tenant_bounce_rate),
        ("scaisend-queues", CONFIG.queue_depth_ceiling),
    ],
)
def test_alert_threshold_is_drawn(uid: str, threshold: float) -> None:
    assert threshold in _threshold_lines(DASHBOARDS[uid])


def test_bounce_rate_is_stacked_per_tenant() -> None:
    first = DASHBOARDS["scaisend-bounces"]["panels"][0]
    assert first["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"
    assert first["targets"][0]["legendFormat"] == "{{tenant}}"


def test_queue_chart_shows_the_three_queues_on_one_panel() -> None:
    first = DASHBOARDS["scaisend-queues"]["panels"][0]
    assert len(first["targets"]) == 1
    assert "max by (queue)" in first["targets"][0]["expr"]


def test_api_latency_has_p50_p95_p99_for_mail_send() -> None:
    first = DASHBOARDS["scaisend-api-latency"]["panels"][0]
    assert [t["legendFormat"] for t in first["targets"]] == ["p50", "p95", "p99"]
    assert all('route="/v3/mail/send"' in t["expr"] for t in first["targets"])


class TestGeneratedFiles:
    def test_committed_output_is_fresh(self, tmp_path: Path) -> None:
        generate.write(tmp_path)
        fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
        committed = {p.name: p.read_text(encoding="utf-8") for p in generate.OUT_DIR.glob("*.json")}
        assert committed == fresh, "dashboards/out is stale: run `python -m dashboards.generate`"

    def test_output_is_sorted_and_deterministic(self) -> None:
        first, second = generate.render(), generate.render()
        assert first == second
        for text in first.values():
            assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"

    def test_file_names_are_uids(self) -> None:
        assert set(generate.render()) == {f"{uid}.json" for uid in EXPECTED_UIDS}
