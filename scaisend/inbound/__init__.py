"""Stage 3b: the inbound listener for DSNs (RFC 3464) and ARF complaint reports (RFC 5965), docs/inbound.md, D12, D41."""
