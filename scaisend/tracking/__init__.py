"""Tracking (docs/compose.md): signed tokens for open, click and unsubscribe links."""
