"""The reputation monitor's latest results (docs/reputation.md): blocklist listings per target and list, DNS health
per domain and check. Read from memory: the monitor does its DNS look-ups on its own schedule, never in a scrape."""

from __future__ import annotations

from exporter.collectors.base import Sources
from exporter.exposition import GaugeFamily
from scaisend import metrics


async def collect(sources: Sources) -> list[GaugeFamily]:
    if sources.reputation is None:  # REPUTATION_CHECKS_ENABLED=false
        return []
    snapshot = sources.reputation.snapshot()
    listed = GaugeFamily(metrics.BLOCKLIST_LISTED_SPEC)
    error = GaugeFamily(metrics.BLOCKLIST_CHECK_ERROR_SPEC)
    checked = GaugeFamily(metrics.BLOCKLIST_LAST_CHECK_SPEC)
    for listing in sorted(snapshot.listings, key=lambda x: (x.blocklist, x.target)):
        if listing.listed is not None:
            listed.add((listing.blocklist, listing.target, listing.kind), float(listing.listed))
        error.add((listing.blocklist, listing.target), float(listing.error))
        checked.add((listing.blocklist, listing.target), listing.checked_at)
    ok = GaugeFamily(metrics.DOMAIN_DNS_OK_SPEC)
    dns_error = GaugeFamily(metrics.DOMAIN_DNS_CHECK_ERROR_SPEC)
    dns_checked = GaugeFamily(metrics.DOMAIN_DNS_LAST_CHECK_SPEC)
    for health in sorted(snapshot.health, key=lambda x: (x.domain, x.check)):
        if health.ok is not None:
            ok.add((health.domain, health.check), float(health.ok))
        dns_error.add((health.domain, health.check), float(health.error))
        dns_checked.add((health.domain, health.check), health.checked_at)
    return [listed, error, checked, ok, dns_error, dns_checked]
