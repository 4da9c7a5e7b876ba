"""Authentication (API keys D3, JWTs D1) and authorization (scopes, spec §4.4)."""
