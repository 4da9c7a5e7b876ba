"""Stage 2, compose: the worker job that renders, instruments and builds the MIME of an accepted message."""
