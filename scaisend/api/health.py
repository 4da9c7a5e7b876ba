"""``GET /health`` (the process is alive) and ``GET /ready`` (the database answers), docs/observability.md, docs/deploy.md; and the API's
``/metrics`` (D17: same port)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from scaisend import metrics
from scaisend.api.deps import ResourcesDep
from scaisend.db.session import database_answers

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)
READY_TIMEOUT = 3.0


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


@router.get("/ready")
async def ready(resources: ResourcesDep) -> JSONResponse:
    if not await database_answers(resources.engine, READY_TIMEOUT):
        logger.warning("database not reachable")
        return JSONResponse({"status": "not ready", "detail": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(resources: ResourcesDep) -> Response:
    body, content_type = metrics.render_metrics(resources.settings.PROMETHEUS_MULTIPROC_DIR or None)
    return Response(body, media_type=content_type)
