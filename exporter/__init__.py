"""The Prometheus exporter (``scaisend exporter``, port 9103): per-tenant ``daily_stats`` of today, queue depths and
recent webhook outcomes. A separate single-process service; metric names come from ``scaisend/metrics.py``."""
