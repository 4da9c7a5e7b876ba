"""Messages (docs/sending.md, D4, D48): listing, detail, and cancel/retry/fail of single messages."""
