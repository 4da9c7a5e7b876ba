"""ASGI entry point for uvicorn (``scaisend serve``): builds the app from the environment's settings."""

from __future__ import annotations

from fastapi import FastAPI

from scaisend.api.app import create_app
from scaisend.logs import configure_logging
from scaisend.settings import load_settings, require_secret_keys


def app_factory() -> FastAPI:
    settings = load_settings()
    require_secret_keys(settings)  # uvicorn's workers load the settings again; each refuses a guessable key
    configure_logging("api", settings.LOG_LEVEL)
    return create_app(settings)
