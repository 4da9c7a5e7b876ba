"""Stage 4: events. ``recorder.py`` is the only writer of ``email_events``."""
