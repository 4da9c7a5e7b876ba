"""Partners, tenants and users: the local identity mirror (D1)."""
