"""Depth of ``email:process``, ``smtp:deliver`` and ``webhook:deliver`` measured by key type (D2: ZCARD for arq's
sorted sets; a missing key is 0)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from exporter.collectors.base import Sources
from scaisend import metrics
from scaisend.queues import queue_depths


async def collect(sources: Sources) -> list[Metric]:
    family = GaugeMetricFamily(metrics.QUEUE_DEPTH_SPEC.name, metrics.QUEUE_DEPTH_SPEC.help, labels=["queue"])
    for name, depth in (await queue_depths(sources.redis, sources.queues)).items():
        family.add_metric([name], float(depth))
    return [family]
