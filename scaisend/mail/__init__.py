"""Stage 1, accept (style.md §6.3; spec §3.3): ``POST /v3/mail/send`` and the ``/v3/mail/batch`` routes."""
