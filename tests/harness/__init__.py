"""Reusable test harness: real loopback SMTP and DNS peers."""
