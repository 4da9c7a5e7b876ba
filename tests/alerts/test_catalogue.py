"""The metric catalogue ``scaisend/metrics.py`` (docs/observability.md, docs/architecture.md "Metrics", docs/stats.md, D5, D9): naming
conventions, bounded labels, promtool-clean exposition, and aggregation across processes in multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from scaisend import metrics, processes
from scaisend.stat_metrics import STAT_METRICS
from tests.alerts.tools import PROMTOOL, needs_promtool

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_LABELS = {"email", "to", "from", "recipient", "message_id", "msg_id", "address", "type", "le", "quantile"}


@pytest.mark.parametrize("spec", metrics.CATALOGUE, ids=lambda s: s.name)
class TestNaming:
    def test_prefix_and_snake_case(self, spec: metrics.MetricSpec) -> None:
        assert spec.name.startswith("scaisend_")
        assert spec.name == spec.name.lower()

    def test_counters_end_in_total_and_nothing_else_does(self, spec: metrics.MetricSpec) -> None:
        assert spec.name.endswith("_total") == (spec.kind is metrics.Kind.COUNTER)

    def test_histograms_measure_seconds(self, spec: metrics.MetricSpec) -> None:
        if spec.kind is metrics.Kind.HISTOGRAM:
            assert spec.name.endswith("_seconds")
            assert list(spec.buckets) == sorted(spec.buckets)

    def test_no_abbreviated_units(self, spec: metrics.MetricSpec) -> None:
        assert not any(part in {"ms", "sec", "secs", "msec", "kb", "mb"} for part in spec.name.split("_"))

    def test_labels_are_bounded(self, spec: metrics.MetricSpec) -> None:
        assert not set(spec.labels) & FORBIDDEN_LABELS
        open_labels = set(spec.labels) - set(spec.label_values)
        # reputation labels are bounded by configuration (the operator's addresses, lists and active domains)
        assert open_labels <= {"route", "method", "tenant", "blocklist", "target", "domain"}, (
            "every other label lists its values"
        )

    def test_tenant_only_on_exporter_gauges(self, spec: metrics.MetricSpec) -> None:
        if "tenant" in spec.labels and spec is not metrics.INBOUND_UNVERIFIED_SPEC:  # the one exception, D41
            assert spec.process == processes.EXPORTER
            assert spec.kind is metrics.Kind.GAUGE

    def test_help_is_a_sentence(self, spec: metrics.MetricSpec) -> None:
        assert not spec.help[0].islower()
        assert spec.help.endswith(".")


def test_names_are_unique() -> None:
    assert len(metrics.BY_NAME) == len(metrics.CATALOGUE)


def test_one_tenant_gauge_per_daily_stats_metric() -> None:
    assert set(metrics.TENANT_STAT_SPECS) == set(STAT_METRICS)
    assert len(STAT_METRICS) == 16
    assert metrics.tenant_stat_metric("bounces") == "scaisend_tenant_bounces_today"
    with pytest.raises(ValueError, match="unknown"):
        metrics.tenant_stat_metric("sent")


def test_processes_and_ports_follow_d17() -> None:
    assert {p.job: p.port for p in processes.PROCESSES} == {
        "scaisend-api": 8000,
        "scaisend-worker": 9101,
        "scaisend-smtp": 9102,
        "scaisend-exporter": 9103,
    }
    assert all(metrics.specs_for(p) for p in processes.PROCESSES)


def test_http_buckets_separate_50_100_200_ms() -> None:
    assert {0.05, 0.1, 0.2} <= set(metrics.HTTP_REQUEST_DURATION_SPEC.buckets)
    assert {0.001, 0.01} <= set(metrics.DKIM_SIGNING_DURATION_SPEC.buckets)


def test_status_class() -> None:
    assert [metrics.status_class(c) for c in (200, 202, 404, 429, 500, 503)] == [
        "2xx",
        "2xx",
        "4xx",
        "4xx",
        "5xx",
        "5xx",
    ]


def test_render_default_registry_has_every_process_metric_family() -> None:
    metrics.initialise(processes.WORKER)
    metrics.initialise(processes.SMTP)
    metrics.observe_http_request("/v3/mail/send", "POST", 202, 0.04)
    body, content_type = metrics.render_metrics(None)
    assert content_type.startswith("text/plain")
    families = {f.name for f in text_string_to_metric_families(body.decode())}
    live = {s.name.removesuffix("_total") for s in metrics.CATALOGUE if s.process != processes.EXPORTER}
    assert live <= families
    assert 'scaisend_worker_jobs_total{outcome="failure",queue="webhook:deliver"} 0.0' in body.decode()


@needs_promtool
def test_exposition_passes_promtool_check_metrics() -> None:
    body, _ = metrics.render_metrics(None)
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert not result.stdout


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    """Two API worker processes count requests; /metrics rendered from a third sees their sum."""
    directory = tmp_path / "multiproc"
    metrics.reset_multiproc_dir(directory)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    record = textwrap.dedent("""
        from scaisend import metrics
        for _ in range(3):
            metrics.observe_http_request("/v3/mail/send", "POST", 202, 0.04)
    """)
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], env=env, cwd=ROOT, check=True, timeout=60)
    render = "from scaisend import metrics; import sys; sys.stdout.buffer.write(metrics.render_metrics(sys.argv[1])[0])"
    out = subprocess.run(
        [sys.executable, "-c", render, str(directory)], env=env, cwd=ROOT, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
    }
    labels = (("method", "POST"), ("route", "/v3/mail/send"), ("status_class", "2xx"))
    assert samples[("scaisend_http_requests_total", labels)] == 6
    assert samples[("scaisend_http_request_duration_seconds_count", labels[:2])] == 6
