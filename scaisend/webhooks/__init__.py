"""Stage 5, webhooks (docs/webhooks.md, `scaisend/events/types.py`, D6, D7, D8): endpoint management, the SendGrid-style Event Webhook, the
fan-out of recorded events into ``webhook_deliveries`` and the ``deliver_webhook`` job on ``webhook:deliver``."""
