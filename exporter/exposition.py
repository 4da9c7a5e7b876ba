"""Gauge families and their Prometheus text exposition (format 0.0.4).

The exporter writes the text itself rather than through prometheus-client's ``GaugeMetricFamily`` and
``generate_latest``: with 10,000 tenants a scrape carries 170,000 samples, and the library's per-sample objects
cost over a second where joining strings costs a few tens of milliseconds (docs/benchmarks.md). The output is
checked by ``promtool check metrics`` and prometheus-client's parser in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scaisend.metrics import MetricSpec

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


@dataclass
class GaugeFamily:
    """One gauge family of a catalogue spec; samples are (label values in the spec's label order, value)."""

    spec: MetricSpec
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def add(self, labels: tuple[str, ...], value: float) -> None:
        self.samples.append((labels, value))

    def render(self) -> str:
        name = self.spec.name
        lines = [f"# HELP {name} {_escape_help(self.spec.help)}", f"# TYPE {name} gauge"]
        label_names = self.spec.labels
        if len(label_names) == 1:  # the per-tenant families: the hot path of a large scrape
            prefix = f'{name}{{{label_names[0]}="'
            lines.extend(f'{prefix}{_escape_label(labels[0])}"}} {float(value)!r}' for labels, value in self.samples)
        elif label_names:
            for labels, value in self.samples:
                pairs = ",".join(f'{k}="{_escape_label(v)}"' for k, v in zip(label_names, labels, strict=True))
                lines.append(f"{name}{{{pairs}}} {float(value)!r}")
        else:
            lines.extend(f"{name} {float(value)!r}" for _, value in self.samples)
        return "\n".join(lines) + "\n"


def render(families: list[GaugeFamily]) -> bytes:
    return "".join(f.render() for f in families).encode()
