"""Database layer: declarative base, portable column types, engines and session scopes, Alembic migrations."""
