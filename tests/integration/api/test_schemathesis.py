"""Schemathesis probes every operation of the OpenAPI document against the real server (admin token).

No 5xx, every status documented, every response body and header as the document says, schema-violating
input refused. The document is built at import (schemathesis parametrizes at collection; its lazy
`from_fixture` loader does not work with pytest 9) from the same code the server runs, and
`test_the_fuzzed_document_is_the_served_one` holds the two together.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, reject, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import PASSPHRASE
from tests.integration.api.conftest import ApiServer, running_server
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.app import create_app
from tradewarden.api.server import ServeOptions, build_state
from tradewarden.api.state import LoginLimiter
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import open_app
from tradewarden.services.connections import service
from tradewarden.sim import ThreadedSim

MAX_EXAMPLES = 50  # per operation; the whole module runs in about 15 s


def _document() -> dict[str, Any]:
    """The OpenAPI document of the app as `serve` builds it (a throwaway home; no vault needed)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = open_app(Settings(home=Path(tmp), database_url=None), actor="test")
        try:
            state = build_state(app, Secret(PASSPHRASE), ServeOptions())
            return create_app(state, background=False).openapi()
        finally:
            app.close()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def st_server(tmp_path_factory: pytest.TempPathFactory, threaded_sim: ThreadedSim) -> Iterator[ApiServer]:
    with running_server(Path(tmp_path_factory.mktemp("schemathesis")) / "twhome") as server:
        # Generated logins carry wrong tokens; after five, every request from 127.0.0.1 would get 429 for
        # five minutes and the rest of the run would test nothing. The limit has its own test.
        server.state.limiter = LoginLimiter(max_failures=10**9)
        key = SimAdmin(threaded_sim.url).key("binance", ["read", "spot_trade"], ["127.0.0.1"])
        service.add_connection(
            server.app,
            Secret(PASSPHRASE),
            "Fuzz Target",
            "binance",
            {"apiKey": Secret(key["apiKey"]), "secret": Secret(key["secret"])},
            endpoint=threaded_sim.url,
        )
        yield server


def _auth(server: ApiServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens['admin']}"}


def test_the_fuzzed_document_is_the_served_one(st_server: ApiServer) -> None:
    served = httpx.get(
        f"{st_server.url}/api/v1/openapi.json", headers=_auth(st_server), timeout=10, trust_env=False
    )
    assert served.status_code == 200
    assert served.json() == DOCUMENT
    assert httpx.get(f"{st_server.url}/api/v1/openapi.json", timeout=10, trust_env=False).status_code == 401


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api(case: schemathesis.Case, st_server: ApiServer) -> None:
    # Revoking the token this run authenticates with would turn every later request into a 401.
    if case.method.upper() == "DELETE" and case.operation.path == "/api/v1/tokens/{token}":
        ours = {view.name.lower() for view in tokens.list_tokens(st_server.app)} | {
            view.id for view in tokens.list_tokens(st_server.app)
        }
        if str((case.path_parameters or {}).get("token", "")).strip().lower() in ours:
            reject()
    # Generated path parameters never name an existing connection, so no connection test reaches out
    # (connections created here have random endpoints); the health monitor's one round ran at startup.
    response = case.call(base_url=st_server.url, headers=_auth(st_server))
    # Schema-valid but refused on purpose: the exchange must be one ccxt knows, the credentials fields it
    # needs depend on the exchange, an endpoint must be an http(s) URL, names must not be blank. A JSON
    # schema cannot say these; test_connections_api checks each refusal.
    case.validate_response(response, excluded_checks=excluded_checks(response))


def exchange_down(response: Any) -> bool:
    """The documented fail-closed answer when an exchange a request needs did not answer: 503 with code
    `exchange_unavailable` (a bot created on a connection the fuzzer added with a dead endpoint)."""
    if response.status_code != 503:
        return False
    try:
        return bool(response.json()["error"]["code"] == "exchange_unavailable")
    except (ValueError, KeyError, TypeError):
        return False


def excluded_checks(response: Any) -> list[Any]:
    """The checks this response is not held to: positive data acceptance always (see above), and "not a
    server error" for the documented exchange-down 503 (its shape and status are still checked)."""
    return [positive_data_acceptance] + ([not_a_server_error] if exchange_down(response) else [])
