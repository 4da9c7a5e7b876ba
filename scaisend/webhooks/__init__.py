"""Stage 5, webhooks (spec §3.7, §7; D6, D7, D8): endpoint management, the SendGrid-style Event Webhook, the
fan-out of recorded events into ``webhook_deliveries`` and the ``deliver_webhook`` job on ``webhook:deliver``."""
