"""ScaiSend test suite."""
