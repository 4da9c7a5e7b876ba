"""Shared dashboard pieces (docs/architecture.md, D27; docs/observability.md): the datasource and tenant variables,
panel helpers, grid layout and the final JSON shape.

Only modern constructs are emitted: ``panels`` of ``timeseries`` and ``stat`` with datasource reference objects and
an explicit ``schemaVersion``; grafanalib's legacy dashboard, panel and target keys (``rows``, ``span``,
``intervalFactor``, a 100-point ``maxDataPoints`` cap, …) are dropped from the output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import attr
from grafanalib._gen import DashboardEncoder  # type: ignore[import-untyped]
from grafanalib.core import (  # type: ignore[import-untyped]
    REFRESH_ON_TIME_RANGE_CHANGE,
    Dashboard,
    GridPos,
    Logs,
    Panel,
    Stat,
    Target,
    Template,
    Templating,
    Time,
    TimeSeries,
)

from scaisend import metrics, processes

SCHEMA_VERSION: Final = 39
GRID_WIDTH: Final = 24
DATASOURCE: Final = {"type": "prometheus", "uid": "${datasource}"}
LOGS_DATASOURCE: Final = {"type": "loki", "uid": "${logs}"}  # the Loki the deploy bundle's Alloy ships to (D59)
REQUEST_ID: Final = "$request_id"
RATE: Final = "$__rate_interval"
TENANT: Final = 'tenant=~"$tenant"'
TAGS: Final = ["scaisend"]
LEGACY_KEYS: Final = ("rows", "style", "hideControls", "sharedCrosshair")
# Panel and target keys grafanalib fills with pre-v8 defaults: span layout, 1/2 resolution, a 100-point cap.
LEGACY_PANEL_KEYS: Final = ("span", "minSpan", "height", "error", "maxDataPoints")
LEGACY_TARGET_KEYS: Final = ("intervalFactor", "step", "target", "metric", "query")

# Label matchers per scrape job, as the dashboards use them.
API: Final = processes.API.selector
WORKER: Final = processes.WORKER.selector
SMTP: Final = processes.SMTP.selector
EXPORTER: Final = processes.EXPORTER.selector
# The processes that run queued jobs: the worker (email:process, webhook:deliver) and SMTP (smtp:deliver).
JOB_RUNNERS: Final = f'job=~"{processes.WORKER.job}|{processes.SMTP.job}"'


def datasource_variable() -> Template:
    return Template(name="datasource", query="prometheus", type="datasource", label="Data source")


def tenant_variable() -> Template:
    """Multi-select tenant picker fed by the exporter's per-tenant gauges."""
    return Template(
        name="tenant",
        query=f"label_values({metrics.tenant_stat_metric('requests')}{{{EXPORTER}}}, tenant)",
        dataSource=DATASOURCE,
        label="Tenant",
        includeAll=True,
        multi=True,
        allValue=".+",
        refresh=REFRESH_ON_TIME_RANGE_CHANGE,
    )


def logs_datasource_variable() -> Template:
    return Template(name="logs", query="loki", type="datasource", label="Logs")


def request_id_variable() -> Template:
    """A text box for the ``X-Request-ID`` (or ``request_id`` of any log line) to follow through every process."""
    return Template(name="request_id", query="", default="", type="textbox", label="Request id")


def request_logs_query(services: Sequence[str]) -> str:
    """LogQL: the JSON lines of ``services`` naming ``$request_id``; ``service`` is a label, ``request_id`` a field
    of the line (D59), so a cheap line filter comes before the JSON parse."""
    selector = "|".join(services)
    return f'{{service=~"{selector}"}} |= "{REQUEST_ID}" | json | request_id="{REQUEST_ID}"'


def request_logs(title: str, services: Sequence[str], *, description: str = "") -> Logs:
    """A logs panel of every line that names the request id typed into the ``request_id`` variable."""
    return Logs(
        title=title,
        description=description,
        dataSource=LOGS_DATASOURCE,
        targets=[Target(expr=request_logs_query(services), refId="A", datasource=LOGS_DATASOURCE)],
        showLabels=True,
        showTime=True,
        wrapLogMessages=True,
        enableLogDetails=True,
        sortOrder="Ascending",
    )


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def _targets(queries: Sequence[Query]) -> list[Target]:
    return [
        Target(expr=query.expr, legendFormat=query.legend, refId=chr(ord("A") + index), datasource=DATASOURCE)
        for index, query in enumerate(queries)
    ]


def threshold_steps(threshold: float | None) -> list[dict[str, Any]]:
    """Green below ``threshold``, red from it (the alert's threshold, drawn as a line on time series)."""
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    return steps


def timeseries(
    title: str,
    queries: Sequence[Query],
    unit: str,
    *,
    description: str = "",
    threshold: float | None = None,
    stacked: bool = False,
) -> TimeSeries:
    return TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        unit=unit,
        thresholds=threshold_steps(threshold),
        thresholdsStyleMode="line" if threshold is not None else "off",
        stacking={"mode": "normal", "group": "A"} if stacked else {},
        fillOpacity=30 if stacked else 10,
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["lastNotNull", "max"],
        tooltipMode="multi",
    )


def stat(title: str, query: Query, unit: str, *, description: str = "", threshold: float | None = None) -> Stat:
    return Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets([query]),
        format=unit,
        reduceCalc="lastNotNull",
        thresholds=threshold_steps(threshold),
    )


def layout(rows: Sequence[tuple[int, Sequence[Panel]]]) -> list[Panel]:
    """Place rows of panels on the 24-column grid: each row is ``(height, panels)``, panels share the width equally."""
    placed: list[Panel] = []
    y = 0
    for height, panels in rows:
        width = GRID_WIDTH // len(panels)
        for index, panel in enumerate(panels):
            placed.append(attr.evolve(panel, gridPos=GridPos(h=height, w=width, x=index * width, y=y)))
        y += height
    return placed


def build(uid: str, title: str, description: str, rows: Sequence[tuple[int, Sequence[Panel]]]) -> dict[str, Any]:
    """The dashboard as Grafana's classic JSON model (a plain dict). A dashboard with a logs panel also gets the
    ``logs`` (Loki) datasource and ``request_id`` variables."""
    variables = [datasource_variable(), tenant_variable()]
    if any(isinstance(panel, Logs) for _height, panels in rows for panel in panels):
        variables += [logs_datasource_variable(), request_id_variable()]
    dashboard = Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=TAGS,
        timezone="utc",
        time=Time("now-6h", "now"),
        refresh="1m",
        panels=layout(rows),
        templating=Templating(list=variables),
        schemaVersion=SCHEMA_VERSION,
    ).auto_panel_ids()
    model: dict[str, Any] = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    for key in LEGACY_KEYS:
        model.pop(key, None)
    for panel in model["panels"]:
        for key in LEGACY_PANEL_KEYS:
            panel.pop(key, None)
        for target in panel["targets"]:
            for key in LEGACY_TARGET_KEYS:
                target.pop(key, None)
    return model
