"""Stage 1, accept (docs/architecture.md, D27; docs/sending.md): ``POST /v3/mail/send`` and the ``/v3/mail/batch`` routes."""
