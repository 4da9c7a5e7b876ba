"""The ``scaisend`` command: one module per command group."""
