"""Depth of ``email:process``, ``smtp:deliver`` and ``webhook:deliver`` measured by key type (D2: ZCARD for arq's
sorted sets; a missing key is 0)."""

from __future__ import annotations

from exporter.collectors.base import Sources
from exporter.exposition import GaugeFamily
from scaisend import metrics
from scaisend.queues import queue_depths


async def collect(sources: Sources) -> list[GaugeFamily]:
    family = GaugeFamily(metrics.QUEUE_DEPTH_SPEC)
    for name, depth in (await queue_depths(sources.redis, sources.queues)).items():
        family.add((name,), depth)
    return [family]
