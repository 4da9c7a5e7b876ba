"""Stage 3, outbound delivery (spec §6.1 step 4, §6.3, §6.4; D10-D14): the ``deliver_message`` job and the protocol
pieces it orchestrates (MX lookup, connection pool, SMTP session, TLS policy, DKIM, VERP, classification, retries).
docs/delivery.md describes the whole stage."""
