"""The sixteen SendGrid statistics (D9), by the names SendGrid's ``/v3/stats`` uses.

One list for every place that counts them: the ``daily_stats`` columns (:mod:`scaisend.models.daily_stats`), the
``/v3/stats`` response, the rebuild, and the exporter's per-tenant gauges declared in :mod:`scaisend.metrics`. This
module imports nothing, so the metric catalogue does not depend on the ORM.
"""

from __future__ import annotations

from typing import Final

STAT_METRICS: Final[tuple[str, ...]] = (
    "requests",
    "processed",
    "delivered",
    "bounces",
    "bounce_drops",
    "blocks",
    "spam_reports",
    "spam_report_drops",
    "unsubscribes",
    "unsubscribe_drops",
    "invalid_emails",
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
    "deferred",
)
# The ``category`` of the rows that count every category together.
ALL_CATEGORIES: Final = ""
