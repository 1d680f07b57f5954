"""The API's one error shape: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from tradewarden.services.connections.validation import CREDENTIAL_FIELDS
from tradewarden.services.errors import (
    ConflictError,
    ExchangeUnavailableError,
    InputError,
    NotFoundError,
    PassphraseError,
    UserError,
    VaultStateError,
)


class ErrorBody(BaseModel):
    """What went wrong, for a person and for a program."""

    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    """Every error the API returns."""

    error: ErrorBody


class ApiError(Exception):
    """An error with an HTTP status and a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers


def error_json(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error response in the API's shape."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status, headers=headers)


USER_ERROR_STATUS: list[tuple[type[UserError], int, str]] = [
    (InputError, 422, "invalid_input"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PassphraseError, 503, "vault_locked"),
    (VaultStateError, 503, "vault_missing"),
    (ExchangeUnavailableError, 503, "exchange_unavailable"),
]

# Documented for every route, so generated clients and schemathesis know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "Malformed request: the body could not be read"),
        (401, "No valid token or session"),
        (403, "Token scope too small, or CSRF header missing"),
        (422, "Invalid input; `field` names it"),
        (413, "The request body is larger than the server accepts (TRADEWARDEN_MAX_BODY_BYTES)"),
        (429, "Too many failed authentications (per address, token prefix or overall); see Retry-After"),
    )
}
# Documented on the routes that can answer them.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such resource; `field` names the parameter"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "The name is already taken; `field` names it"}
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """ApiError → its status and code."""
    assert isinstance(exc, ApiError)
    return error_json(exc.status, exc.code, exc.message, exc.field, exc.headers)


async def user_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """A service's UserError → 4xx/5xx with its message and fix."""
    assert isinstance(exc, UserError)
    for kind, status, code in USER_ERROR_STATUS:
        if isinstance(exc, kind):
            return error_json(status, code, f"{exc.message}" + (f"; {exc.fix}" if exc.fix else ""), exc.field)
    return error_json(400, "bad_request", str(exc), exc.field)


def _shown(part: object) -> str:
    # An unknown key is echoed in `loc`, and a pasted secret can land where a field name belongs:
    # show only what looks like a name (the CLI's rule for credentials files).
    if isinstance(part, int) or (isinstance(part, str) and len(part) <= 24 and part.isidentifier()):
        return str(part)
    return "(not shown)"


def _position(body: Any, loc: list[Any]) -> int | None:
    """1-based position of the key loc[-1] in the object at loc[:-1] of the request body, if found."""
    node = body
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, dict) and loc and loc[-1] in node:
        return list(node).index(loc[-1]) + 1
    return None


def _unknown_field(exc: RequestValidationError, loc: list[Any]) -> tuple[str, str]:
    """(message, field) for an unknown key: its position and the allowed names, never the key itself.

    Whatever sits where a field name belongs may be a pasted secret, identifier-shaped or not.
    """
    parent = [part for part in loc[:-1] if part != "body"]
    where = ".".join(str(part) for part in parent) or "body"
    position = _position(getattr(exc, "body", None), [part for part in loc if part != "body"])
    which = f"#{position}" if position is not None else ""
    allowed = (
        f"allowed: {', '.join(CREDENTIAL_FIELDS)}"
        if parent and parent[-1] == "credentials"
        else "see the API schema for the allowed fields"
    )
    return f"unknown field {which} in {where} (its name is not shown); {allowed}".replace("  ", " "), where


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Request validation → 422 naming the first bad field (never echoing its value, nor an unknown key)."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "extra_forbidden":
        message, where = _unknown_field(exc, list(first.get("loc", ())))
        return error_json(422, "invalid_input", message, where)
    loc = [_shown(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    return error_json(422, "invalid_input", str(first.get("msg", "invalid value")), field)


def allowed_methods(request: Request) -> list[str]:
    """The methods the API documents for the request's path (empty when it documents none)."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    for template, operations in paths.items():
        if compile_path(template)[0].match(request.scope["path"]):
            return sorted(method.upper() for method in operations if method in HTTP_METHODS)
    return []


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTP errors (404 for unknown paths, 405, ...) in the API's shape."""
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        # Starlette names only the methods of the first route matching the path; HTTP wants all of the
        # resource's methods in Allow (GET and POST for /connections, say).
        allowed = allowed_methods(request)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    return error_json(exc.status_code, code, str(exc.detail), headers=headers or None)
