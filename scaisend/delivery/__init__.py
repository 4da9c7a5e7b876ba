"""Stage 3, outbound delivery (docs/architecture.md, docs/compose.md, docs/delivery.md, D21 step 4, D13, D10, D11; D10-D14): the ``deliver_message`` job and the protocol
pieces it orchestrates (MX lookup, connection pool, SMTP session, TLS policy, DKIM, VERP, classification, retries).
docs/delivery.md describes the whole stage."""
