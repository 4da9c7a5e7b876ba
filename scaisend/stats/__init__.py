"""Stats (docs/stats.md, D5, D9): live ``daily_stats`` counters and the ``/v3/stats`` family."""
