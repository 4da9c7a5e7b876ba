"""The scrape: run every collector with a deadline, report each one's success and duration, and
``scaisend_exporter_up`` (1 only when all succeeded). A failing or slow collector (MySQL down, a slow query)
costs its own series, never the scrape."""

from __future__ import annotations

import asyncio
import logging
import time

from exporter.collectors import daily_stats, redis_queues, reputation, webhook_deliveries
from exporter.collectors.base import Collector, Sources
from exporter.exposition import GaugeFamily
from scaisend import metrics

logger = logging.getLogger(__name__)

COLLECTORS: dict[str, Collector] = {
    "daily_stats": daily_stats.collect,
    "redis_queues": redis_queues.collect,
    "webhook_deliveries": webhook_deliveries.collect,
    "reputation": reputation.collect,
}


async def _run(
    name: str, collector: Collector, sources: Sources, timeout: float
) -> tuple[list[GaugeFamily], bool, float]:
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            families = await collector(sources)
        return families, True, time.perf_counter() - start
    except Exception as exc:  # a collector's failure is reported as a series, never raised
        logger.warning("collector failed", extra={"collector": name, "error": repr(exc)})
        return [], False, time.perf_counter() - start


async def scrape(sources: Sources, timeout: float) -> list[GaugeFamily]:
    results = await asyncio.gather(*(_run(n, c, sources, timeout) for n, c in COLLECTORS.items()))
    success = GaugeFamily(metrics.EXPORTER_COLLECTOR_SUCCESS_SPEC)
    duration = GaugeFamily(metrics.EXPORTER_SCRAPE_DURATION_SPEC)
    families: list[GaugeFamily] = []
    for name, (found, ok, seconds) in zip(COLLECTORS, results, strict=True):
        families.extend(found)
        success.add((name,), 1.0 if ok else 0.0)
        duration.add((name,), seconds)
    up = GaugeFamily(metrics.EXPORTER_UP_SPEC)
    up.add((), 1.0 if all(ok for _, ok, _ in results) else 0.0)
    return [*families, success, duration, up]
