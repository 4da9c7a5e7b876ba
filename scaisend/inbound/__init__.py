"""Stage 3b: the inbound listener for DSNs (RFC 3464) and ARF complaint reports (RFC 5965), spec §6.6, D12."""
