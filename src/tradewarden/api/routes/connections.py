"""Connections: create (credentials write-only), list, show, test, rotate, remove, test history."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter
from starlette.concurrency import run_in_threadpool

from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.auth import AdminPrincipal, ReadPrincipal, StateDep
from tradewarden.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND, ErrorBody
from tradewarden.api.schemas import (
    ConnectionCreate,
    ConnectionEdit,
    ConnectionOut,
    CreatedOut,
    CredentialsIn,
    CredentialsPatch,
    EditOut,
    HistoryItemOut,
    RotateIn,
    RotateOut,
    TestResultOut,
)
from tradewarden.api.state import ServerState
from tradewarden.services.connections import checks, service
from tradewarden.services.connections.service import ConnectionView

router = APIRouter(prefix="/connections", tags=["connections"], responses=ERROR_RESPONSES)
# Connections are addressed by id or by name. Names may hold any printable character, "/" included: the
# `path` converter takes the whole rest of the path (send "/" as %2F or plain), and lookup compares
# normalised names (see models.name_key). A name ending in "/test", "/rotate" or "/history" is reached
# by its id for the routes those suffixes collide with.


def _out(view: ConnectionView) -> ConnectionOut:
    # From the attributes: a round trip through to_json()'s ISO strings costs ~25 µs per connection.
    return ConnectionOut.model_validate(view, from_attributes=True)


class TestFailedOut(BaseModel):
    """A key that failed its test on create and was not stored: the error, and the whole report."""

    __test__ = False  # not a pytest test class
    error: ErrorBody
    test: TestResultOut | None = Field(default=None, description="The failed test (error.code test_failed)")


TEST_FAILED: dict[int | str, dict[str, Any]] = {
    422: {"model": TestFailedOut, "description": "Invalid input, or (with `test`) the key failed its test"}
}


def _secrets(credentials: CredentialsIn | CredentialsPatch) -> dict[str, Secret]:
    # SecretStr → Secret: the values go straight to validation and the vault, never into a response.
    return {
        field: Secret(value.get_secret_value())
        for field, value in credentials
        if value is not None and value.get_secret_value() != ""
    }


_LIST_ADAPTER = TypeAdapter(list[ConnectionOut])


def _render_list(state: ServerState) -> bytes:
    return _LIST_ADAPTER.dump_json([_out(view) for view in service.list_connections(state.app)])


@router.get("", response_model=list[ConnectionOut], summary="List connections")
async def list_connections(_: ReadPrincipal, state: StateDep) -> Response:
    """Every connection with its masked API key and current status."""
    # The rendered list is reused until anyone (this server, the CLI, another process) commits to the
    # store: the dashboard and scripts poll this route far more often than connections change.
    version = state.app.store.data_version()
    cached = state.listing_cache
    if version is not None and cached is not None and cached[0] == version:
        return Response(cached[1], media_type="application/json")
    body = await run_in_threadpool(_render_list, state)
    if version is not None:
        # Keyed by the version read *before* rendering: a commit racing the render only costs a re-render.
        state.listing_cache = (version, body)
    return Response(body, media_type="application/json")


@router.post(
    "",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a connection",
    responses={**CONFLICT, **TEST_FAILED},
)
def create_connection(
    body: ConnectionCreate, principal: AdminPrincipal, state: StateDep
) -> CreatedOut | JSONResponse:
    """Seal the credentials in the vault and store the connection; `exchange` must be a supported one
    (GET /exchanges), and a key already stored under another connection is refused (409, naming it).

    With `test` the key is tested first and stored only if it passes (or with `keep_untested`); a refused
    key answers 422 with `error.code` `test_failed` and the report in `test`. Without it the connection
    is stored untested.
    """
    view, report = checks.add_tested(
        state.app_for(principal.actor),
        state.passphrase,
        body.name,
        body.exchange,
        _secrets(body.credentials),
        market=body.market,
        endpoint=body.endpoint,
        test=body.test,
        keep_untested=body.keep_untested,
        testnet=body.testnet,
    )
    tested = TestResultOut.model_validate(report.to_json()) if report is not None else None
    if view is None:
        assert tested is not None and report is not None
        refused = TestFailedOut(
            error=ErrorBody(
                code="test_failed",
                message=f"not stored: the key failed its test ({report.status}); {report.message}",
                field="credentials",
            ),
            test=tested,
        )
        return JSONResponse(refused.model_dump(mode="json"), status_code=422)
    return CreatedOut(**_out(view).model_dump(), test=tested)


@router.post(
    "/{connection:path}/test",
    response_model=TestResultOut,
    summary="Run the connection test",
    responses=NOT_FOUND,
)
def test_connection(connection: str, principal: AdminPrincipal, state: StateDep) -> TestResultOut:
    """Key, signature, clock, permissions, IP restriction and market access; one status at the end."""
    [report] = checks.check_connections(state.app_for(principal.actor), state.passphrase, [connection])
    return TestResultOut.model_validate(report.to_json())


@router.post(
    "/{connection:path}/rotate",
    response_model=RotateOut,
    summary="Rotate the key (test first)",
    responses=NOT_FOUND,
)
def rotate_connection(
    connection: str, body: RotateIn, principal: AdminPrincipal, state: StateDep
) -> RotateOut:
    """Test the new credentials; swap them in only if they pass, otherwise the old ones stay."""
    report, swapped = checks.rotate_tested(
        state.app_for(principal.actor), state.passphrase, connection, _secrets(body.credentials)
    )
    return RotateOut(rotated=swapped, test=TestResultOut.model_validate(report.to_json()))


@router.patch(
    "/{connection:path}",
    response_model=EditOut,
    summary="Edit a connection (name, market, endpoint, key fields)",
    responses={**NOT_FOUND, **CONFLICT},
)
def edit_connection(
    connection: str, principal: AdminPrincipal, state: StateDep, body: ConnectionEdit | None = None
) -> EditOut:
    """Rename, change market or endpoint (`"endpoint": null` goes back to the exchange itself), and/or
    correct key fields in place: given fields over the stored ones, tested first and kept only if the test
    passes (`rotated`); nothing else changes when they fail."""
    app = state.app_for(principal.actor)
    name = service.show_view(app, connection).id  # 404 first: `{connection:path}` also matches "NAME/test"
    body = body or ConnectionEdit()
    report, rotated = None, None
    if body.credentials is not None:
        report, rotated = checks.correct_tested(app, state.passphrase, name, _secrets(body.credentials))
    changes = body.model_fields_set - {"credentials"}
    if changes and rotated is not False:
        service.edit_connection(
            app,
            name,
            new_name=body.name,
            market=body.market,
            endpoint=body.endpoint,
            clear_endpoint="endpoint" in changes and body.endpoint is None,
            passphrase=state.passphrase,
        )
    return EditOut(
        connection=_out(service.show_view(app, name)),
        rotated=rotated,
        test=TestResultOut.model_validate(report.to_json()) if report is not None else None,
    )


@router.delete(
    "/{connection:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a connection",
    responses=NOT_FOUND,
)
def remove_connection(connection: str, principal: AdminPrincipal, state: StateDep) -> None:
    """Delete the connection and shred its sealed credentials (the audit log keeps the removal)."""
    service.remove_connection(state.app_for(principal.actor), connection)


@router.get(
    "/{connection:path}/history",
    response_model=list[HistoryItemOut],
    summary="Past connection tests",
    responses=NOT_FOUND,
)
def connection_history(
    connection: str, _: ReadPrincipal, state: StateDep, limit: int = 20
) -> list[HistoryItemOut]:
    """Stored test results, newest first."""
    limit = max(1, min(limit, 500))
    rows = checks.history(state.app, connection, limit)
    return [HistoryItemOut.model_validate(json.loads(json.dumps(row))) for row in rows]


# Declared last: `{connection:path}` also matches "NAME/history", so the routes with a suffix go first.
@router.get(
    "/{connection:path}", response_model=ConnectionOut, summary="Show a connection", responses=NOT_FOUND
)
def show_connection(connection: str, principal: ReadPrincipal, state: StateDep) -> ConnectionOut:
    """One connection by id or name; the viewing is audited."""
    return _out(service.show_connection(state.app_for(principal.actor), connection))
