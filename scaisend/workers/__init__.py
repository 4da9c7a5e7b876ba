"""arq worker processes: ``email`` (email:process, webhook:deliver) and ``smtp`` (smtp:deliver + inbound)."""
