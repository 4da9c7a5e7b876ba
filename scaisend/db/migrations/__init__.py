"""Alembic migration environment (the only way the schema is made, D18)."""
