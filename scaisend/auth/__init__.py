"""Authentication (API keys D3, JWTs D1) and authorization (scopes, docs/sending.md, D4)."""
