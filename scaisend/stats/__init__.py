"""Stats (spec §8, D9): live ``daily_stats`` counters and the ``/v3/stats`` family."""
