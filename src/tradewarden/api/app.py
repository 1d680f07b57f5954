"""The FastAPI application: /api/v1 routers, one error shape, background tasks, the built dashboard."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradewarden import __version__
from tradewarden.api import errors
from tradewarden.api.routes import (
    audit,
    connections,
    exchanges,
    health,
    metrics,
    portfolio,
    session,
    stream,
    tokens,
)
from tradewarden.api.state import ServerState
from tradewarden.services.errors import UserError

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"
DESCRIPTION = """Drive TradeWarden: exchange connections, their tests, the portfolio and the audit log.

Authenticate with `Authorization: Bearer <token>` (create one with `tradewarden tokens create`), or log
in at `/api/v1/auth/login` for a session cookie; state-changing requests with the cookie need the
`X-CSRF-Token` header. Secrets are write-only: no response ever contains one."""


def create_app(state: ServerState, background: bool = True) -> FastAPI:
    """The app for one server process; `background` runs the health monitor and event feed."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        jobs = state.background_jobs if background else []
        tasks: list[asyncio.Task[None]] = [asyncio.create_task(job(state, stop)) for job in jobs]
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                    await asyncio.wait_for(task, timeout=5)

    app = FastAPI(
        title="TradeWarden API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.tw = state
    app.add_exception_handler(errors.ApiError, errors.api_error_handler)
    app.add_exception_handler(UserError, errors.user_error_handler)
    app.add_exception_handler(RequestValidationError, errors.validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, errors.http_error_handler)
    routers = (health, exchanges, connections, audit, tokens, session, portfolio, stream)
    for module in (*routers, *state.extra_routers):
        app.include_router(module.router, prefix=API_PREFIX)
    metrics.install(app, state)  # /metrics at the root, where Prometheus looks, plus the request counter
    if state.cors_origins:  # off unless configured: no cross-site reads of the API
        app.add_middleware(
            CORSMiddleware,
            allow_origins=state.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )
    if (STATIC_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")
    return app
