"""Tracking (spec §3.12, §6.5): signed tokens for open, click and unsubscribe links."""
