"""Connections: create (credentials write-only), list, show, test, rotate, remove, test history."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response, status
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.auth import AdminPrincipal, ReadPrincipal, StateDep
from tradewarden.api.errors import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from tradewarden.api.schemas import (
    ConnectionCreate,
    ConnectionOut,
    CredentialsIn,
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


def _secrets(credentials: CredentialsIn) -> dict[str, Secret]:
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
    response_model=ConnectionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a connection",
    responses=CONFLICT,
)
def create_connection(body: ConnectionCreate, principal: AdminPrincipal, state: StateDep) -> ConnectionOut:
    """Seal the credentials in the vault and store the connection (untested until you test it)."""
    view = service.add_connection(
        state.app_for(principal.actor),
        state.passphrase,
        body.name,
        body.exchange,
        _secrets(body.credentials),
        market=body.market,
        endpoint=body.endpoint,
    )
    return _out(view)


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
