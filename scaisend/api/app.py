"""``create_app(settings)``: the FastAPI application with its middleware order and error handlers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from scaisend import __version__
from scaisend.api.middleware import BodyLimitMiddleware, RequestContextMiddleware, error_body
from scaisend.api.resources import Resources
from scaisend.api.routers import include_routers
from scaisend.clock import Clock
from scaisend.errors import ScaiSendError
from scaisend.settings import Settings

logger = logging.getLogger(__name__)


async def _scaisend_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScaiSendError)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 without the ``input`` it would echo back (a request body may carry secrets)."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,  # refused, reset, gone away, connect timeout, deadlock, lock wait timeout
    sa_exc.InterfaceError,  # a connection closed under the driver
    sa_exc.TimeoutError,  # no pooled connection free within DATABASE_POOL_TIMEOUT
)
DATABASE_UNAVAILABLE = "Service temporarily unavailable: the database cannot commit right now; retry shortly"
RETRY_AFTER_SECONDS = 5


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 in the route's documented error shape, with ``Retry-After``, while the database cannot be used: nothing
    was stored (the request's transaction rolled back), so the client's retry is safe (docs/reliability.md, D60)."""
    logger.warning("database unavailable", extra={"path": request.url.path, "error": repr(exc)[:500]})
    return JSONResponse(
        error_body(request.url.path, DATABASE_UNAVAILABLE),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def create_app(settings: Settings, *, clock: Clock | None = None, resources: Resources | None = None) -> FastAPI:
    resources = resources or Resources.build(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await resources.aclose()

    app = FastAPI(title="ScaiSend", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.resources = resources
    app.add_exception_handler(ScaiSendError, _scaisend_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error in DATABASE_UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, _database_unavailable)
    include_routers(app)
    # added last = outermost: the request context wraps the body limit so even a 413 carries X-Request-ID
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.MAX_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware)
    return app
