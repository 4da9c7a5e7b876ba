"""``GET /health`` (the process is alive) and ``GET /ready`` (the database answers), spec §3.14; and the API's
``/metrics`` (D17: same port)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from scaisend import metrics
from scaisend.api.deps import ResourcesDep

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)
READY_TIMEOUT = 3.0


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


@router.get("/ready")
async def ready(resources: ResourcesDep) -> JSONResponse:
    try:
        async with asyncio.timeout(READY_TIMEOUT), resources.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        logger.warning("database not reachable", extra={"error": str(exc)})
        return JSONResponse({"status": "not ready", "detail": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(resources: ResourcesDep) -> Response:
    body, content_type = metrics.render_metrics(resources.settings.PROMETHEUS_MULTIPROC_DIR or None)
    return Response(body, media_type=content_type)
