"""Test-only PromQL inspection with ``promql_parser`` (docs/observability.md): which metrics an expression
reads, which functions it calls, and whether it compares anything.

Grafana variables are replaced first, the way grafana/dashboard-linter's ``lint/variables.go`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser

from alerts.rules import groups
from scaisend.metrics import SERIES_NAMES

EXTERNAL_METRICS = frozenset({"up"})  # metrics Prometheus itself provides
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")
RATE_FUNCTIONS = frozenset({"rate", "irate", "increase"})
COMPARISONS = frozenset({">", "<", ">=", "<=", "==", "!="})
_RANGE_VARIABLES = re.compile(r"\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}")
_VARIABLES = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def recording_rule_names() -> frozenset[str]:
    return frozenset(rule.record for group in groups() for rule in group.rules if hasattr(rule, "record"))


def known_metric_names() -> frozenset[str]:
    return SERIES_NAMES | EXTERNAL_METRICS | recording_rule_names()


def expand_grafana_variables(expr: str) -> str:
    """``$__rate_interval`` → ``5m``; any other ``$var`` / ``${var}`` / ``[[var]]`` → ``var`` (they only appear
    inside label-matcher strings in our dashboards)."""
    expr = _RANGE_VARIABLES.sub("5m", expr)
    return _VARIABLES.sub(lambda m: next(g for g in m.groups() if g), expr)


@dataclass
class Inspection:
    metrics: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    operators: set[str] = field(default_factory=set)
    rated_metrics: set[str] = field(default_factory=set)


def inspect(expr: str) -> Inspection:
    """Parse ``expr`` (raises ``ValueError`` when it does not parse) and collect what it uses."""
    found = Inspection()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            found.metrics.add(node.name)
        elif isinstance(node, promql_parser.BinaryExpr):
            found.operators.add(str(node.op))
        elif isinstance(node, promql_parser.Call):
            found.functions.add(node.func.name)
            if node.func.name in RATE_FUNCTIONS:
                for arg in node.args:
                    if isinstance(arg, promql_parser.MatrixSelector) and arg.vector_selector.name:
                        found.rated_metrics.add(arg.vector_selector.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found
