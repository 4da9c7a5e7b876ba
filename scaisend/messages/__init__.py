"""Messages (spec §3.4): listing, detail, and cancel/retry/fail of single messages."""
