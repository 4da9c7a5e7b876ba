"""Sender domains: DKIM keys, the DNS records to publish and their verification (docs/domains.md, docs/identity.md, docs/compose.md, D14)."""
