"""The HTTP API process (FastAPI): app factory, middleware, dependencies, router mounting."""
