"""Self-tests for the SMTP/DNS test harness."""
