"""Sender domains: DKIM keys, the DNS records to publish and their verification (spec §6.2, §3.13, D14)."""
