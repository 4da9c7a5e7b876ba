"""One module per source: ``daily_stats`` (MySQL), ``redis_queues`` (Redis), ``webhook_deliveries`` (MySQL)."""
