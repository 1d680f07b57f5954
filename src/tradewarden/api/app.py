"""The FastAPI application: /api/v1 routers, one error shape, background tasks, the built dashboard."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from tradewarden import __version__
from tradewarden.api import docs, errors, hardening
from tradewarden.api.auth import ReadPrincipal
from tradewarden.api.routes import (
    audit,
    backtests,
    bots,
    connections,
    exchanges,
    health,
    metrics,
    notifications,
    portfolio,
    session,
    stream,
    tokens,
    trading,
)
from tradewarden.api.state import ServerState
from tradewarden.services.errors import UserError

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
DOCS_URL = f"{API_PREFIX}/docs"
DOCS_INIT_URL = f"{API_PREFIX}/docs/init.js"
STATIC_DIR = Path(__file__).parent / "static"
DESCRIPTION = """Drive TradeWarden: exchange connections, their tests, the portfolio and the audit log.

Authenticate with `Authorization: Bearer <token>` (create one with `tradewarden tokens create`), or log
in at `/api/v1/auth/login` for a session cookie; state-changing requests with the cookie need the
`X-CSRF-Token` header. Secrets are write-only: no response ever contains one."""


def _add_docs(app: FastAPI) -> None:
    """The OpenAPI document and its Swagger UI, behind a read token like every route but health.

    Loopback-only would not protect a server behind a reverse proxy (every caller is loopback there);
    a browser logged in to the dashboard sends its session cookie, so the docs open there as they are.
    """

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_document(_: ReadPrincipal) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(DOCS_URL, include_in_schema=False)
    def api_docs(_: ReadPrincipal) -> HTMLResponse:
        # Swagger UI from the package itself (works offline); no inline script, so 'self' scripts only.
        html = docs.page(f"{app.title} — docs", OPENAPI_URL, DOCS_INIT_URL, STATIC_DIR)
        return HTMLResponse(html, headers={"Content-Security-Policy": docs.DOCS_CSP})

    @app.get(DOCS_INIT_URL, include_in_schema=False)
    def api_docs_init(_: ReadPrincipal) -> Response:
        # Behind the same token as the page (the browser sends the session cookie with it).
        return Response(docs.INIT_JS, media_type="text/javascript")


def _add_api_fallback(app: FastAPI) -> None:
    """404, or 405 for a known path, for every other /api request: the dashboard mounted at "/" must not
    answer for the API (it would turn GET /api/v1/auth/login into a 404 where HTTP wants 405 + Allow).
    """

    @app.api_route(
        f"{API_PREFIX}/{{path:path}}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    async def api_fallback(request: Request) -> None:
        raise StarletteHTTPException(405 if errors.allowed_methods(request) else 404)


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
        # Served by _add_docs behind a token instead of FastAPI's public defaults.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.tw = state
    app.add_exception_handler(errors.ApiError, errors.api_error_handler)
    app.add_exception_handler(UserError, errors.user_error_handler)
    app.add_exception_handler(RequestValidationError, errors.validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, errors.http_error_handler)
    # trading before connections: its NAME/orders routes would otherwise match /connections/{connection:path}
    routers = (
        health,
        exchanges,
        trading,
        connections,
        audit,
        tokens,
        session,
        portfolio,
        stream,
        backtests,
        notifications,
        bots,
    )
    for module in (*routers, *state.extra_routers):
        app.include_router(module.router, prefix=API_PREFIX)
    # Inside the metrics middleware, so refused bodies are counted; outside every route.
    app.add_middleware(hardening.BodyLimitMiddleware, max_bytes=state.app.settings.max_body_bytes)
    metrics.install(app, state)  # /metrics at the root, where Prometheus looks, plus the request counter
    _add_docs(app)
    _add_api_fallback(app)
    if state.cors_origins:  # off unless configured: no cross-site reads of the API
        app.add_middleware(
            CORSMiddleware,
            allow_origins=state.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"],
        )
    app.add_middleware(hardening.SecurityHeadersMiddleware)  # outermost: every response, errors included
    if (STATIC_DIR / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="dashboard")
    return app
