"""Every route but health (and login) needs a token; scopes, revocation, CSRF and the login rate limit.

The routes are read off the running app, so routes added later (portfolio, metrics, the event stream)
are covered without touching this file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import PUBLIC_PATHS, SCOPES, ApiServer, Endpoint, endpoints, fill_path
from tests.integration.api.test_backtests_api import finished_job_ids
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.auth import CSRF_HEADER, SESSION_COOKIE
from tradewarden.api.state import LOGIN_MAX_FAILURES, LOGIN_WINDOW_S, LoginLimiter
from tradewarden.services import tokens
from tradewarden.services.bots import service as bots
from tradewarden.services.connections import service
from tradewarden.sim import ThreadedSim

WS_TIMEOUT_S = 5.0


@dataclass
class Matrix:
    """A server with a connection and a spare token to put into path parameters."""

    server: ApiServer
    values: dict[str, str]
    revoked_token: str

    def protected(self) -> list[Endpoint]:
        """Every endpoint except the public ones."""
        return [e for e in endpoints(self.server.fastapi) if e.path not in PUBLIC_PATHS]

    def path(self, endpoint: Endpoint) -> str:
        """The endpoint's path with real values for its parameters."""
        return fill_path(endpoint.path, self.values)

    def call(self, client: httpx.Client, endpoint: Endpoint, **kwargs: Any) -> httpx.Response:
        """One request to `endpoint` (a JSON object body for methods that take one)."""
        if endpoint.method in ("POST", "PUT", "PATCH"):
            kwargs.setdefault("json", {})
        return client.request(endpoint.method, self.path(endpoint), **kwargs)

    def ws_refused(self, endpoint: Endpoint, headers: dict[str, str]) -> str:
        """Open the WebSocket with `headers`; describe how it was refused ('' if it was not)."""
        from websockets.exceptions import ConnectionClosed, InvalidStatus
        from websockets.sync.client import connect

        url = self.server.url.replace("http://", "ws://") + self.path(endpoint)
        try:
            with connect(url, additional_headers=headers, open_timeout=WS_TIMEOUT_S) as ws:
                try:
                    ws.recv(timeout=WS_TIMEOUT_S)
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    return f"closed with {code}" if code != 1000 else ""
                except TimeoutError:
                    return ""  # open and silent: not refused
                return ""  # it sent data
        except InvalidStatus as refused:
            status = refused.response.status_code
            return f"handshake {status}" if status in (401, 403) else ""


def _assert_error(response: httpx.Response, status: int, code: str, label: str) -> None:
    assert response.status_code == status, f"{label}: {response.status_code} {response.text[:200]}"
    body = response.json()
    assert set(body) == {"error"}, f"{label}: {body}"
    assert body["error"]["code"] == code, f"{label}: {body}"
    assert body["error"]["message"], label


@pytest.fixture
def matrix(api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin) -> Matrix:
    key = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    view = service.add_connection(
        api_server.app,
        Secret(PASSPHRASE),
        "Matrix Main",
        "binance",
        {"apiKey": Secret(key["apiKey"]), "secret": Secret(key["secret"])},
        endpoint=threaded_sim.url,
    )
    tokens.create_token(api_server.app, "victim", "read")
    _view, revoked = tokens.create_token(api_server.app, "revoked-admin", "admin")
    tokens.revoke_token(api_server.app, "revoked-admin")
    values = {"connection": view.id, "token": "victim", "exchange_id": "binance", "exchange": "binance"}
    values.update(finished_job_ids(api_server))  # a backtest and a sweep for their read routes
    # A paper bot for the /bots/{name} routes (DELETE runs last and removes it).
    spec = bots.BotSpec("Matrix Bot", "Matrix Main", "dca", ("BTC/USDT",), settings={"base_order": "20"})
    bots.create(api_server.app, spec)
    values["name"] = "Matrix Bot"
    return Matrix(api_server, values, revoked.reveal())


def test_the_route_list_is_complete(matrix: Matrix) -> None:
    """The generic iteration sees the core routes (so the tests below cannot pass vacuously)."""
    labels = {e.label for e in endpoints(matrix.server.fastapi)}
    for expected in (
        "GET /api/v1/health",
        "GET /api/v1/openapi.json",
        "GET /api/v1/docs",
        "GET /api/v1/connections",
        "POST /api/v1/connections",
        "POST /api/v1/connections/{connection:path}/test",
        "DELETE /api/v1/connections/{connection:path}",
        "GET /api/v1/audit",
        "POST /api/v1/tokens",
        "DELETE /api/v1/tokens/{token:path}",
        "GET /api/v1/auth/me",
        "GET /api/v1/bots",
        "POST /api/v1/bots",
        "GET /api/v1/bots/{name:path}",
        "GET /api/v1/bots/{name:path}/candles",
        "POST /api/v1/bots/{name:path}/stop",
        "DELETE /api/v1/bots/{name:path}",
    ):
        assert expected in labels
    # FastAPI's default public docs routes are gone.
    assert not any(label.endswith(("/docs/oauth2-redirect", "/redoc")) for label in labels)


def test_health_is_public_and_says_nothing_more(matrix: Matrix) -> None:
    response = matrix.server.client(None).get("/api/v1/health")
    assert response.status_code == 200
    assert set(response.json()) == {"status", "version"}


def test_every_other_route_needs_a_token(matrix: Matrix) -> None:
    anonymous = matrix.server.client(None)
    for endpoint in matrix.protected():
        if endpoint.method == "WS":
            assert matrix.ws_refused(endpoint, {}), f"{endpoint.label} accepted an anonymous socket"
            continue
        response = matrix.call(anonymous, endpoint)
        _assert_error(response, 401, "unauthorized", endpoint.label)
        assert response.headers.get("www-authenticate") == "Bearer", endpoint.label


def test_docs_and_openapi_open_with_a_read_token(matrix: Matrix) -> None:
    reader = matrix.server.client("read")
    document = reader.get("/api/v1/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/connections" in document.json()["paths"]
    docs = reader.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower() and "/api/v1/openapi.json" in docs.text


def test_a_scope_too_small_is_403_and_the_right_scope_passes(matrix: Matrix) -> None:
    checked = 0
    for endpoint in matrix.protected():
        if endpoint.scope is None:
            continue  # auth other than require(): the 401 test above still covers it
        needed = SCOPES.index(endpoint.scope)
        for scope in SCOPES[:needed]:
            client = matrix.server.client(scope)
            if endpoint.method == "WS":
                headers = {"Authorization": f"Bearer {matrix.server.tokens[scope]}"}
                assert matrix.ws_refused(endpoint, headers), f"{endpoint.label} let scope {scope} in"
                continue
            _assert_error(matrix.call(client, endpoint), 403, "forbidden", f"{endpoint.label} as {scope}")
            checked += 1
        if endpoint.method != "WS":
            response = matrix.call(matrix.server.client(endpoint.scope), endpoint)
            assert response.status_code not in (401, 403, 429), f"{endpoint.label}: {response.text[:200]}"
    assert checked >= 9  # admin routes x (read, trade), at least


def test_read_token_reaches_every_read_route(matrix: Matrix) -> None:
    reader = matrix.server.client("read")
    for endpoint in matrix.protected():
        if endpoint.scope == "read" and endpoint.method == "GET":
            response = matrix.call(reader, endpoint)
            assert response.status_code == 200, f"{endpoint.label}: {response.text[:200]}"


def test_a_revoked_token_is_401_everywhere(matrix: Matrix) -> None:
    revoked = matrix.server.client(token=matrix.revoked_token)
    for endpoint in matrix.protected():
        # Each refusal counts against the address; a fresh allowance keeps this about revocation.
        matrix.server.state.limiter = LoginLimiter()
        if endpoint.method == "WS":
            headers = {"Authorization": f"Bearer {matrix.revoked_token}"}
            assert matrix.ws_refused(endpoint, headers), f"{endpoint.label} took a revoked token"
            continue
        _assert_error(matrix.call(revoked, endpoint), 401, "unauthorized", endpoint.label)
    # Revocation through the API takes effect on the very next request.
    admin = matrix.server.client("admin")
    assert admin.delete("/api/v1/tokens/victim").status_code == 204
    matrix.server.state.limiter = LoginLimiter()
    victim_token = tokens.create_token(matrix.server.app, "victim-2", "read")[1].reveal()
    victim = matrix.server.client(token=victim_token)
    assert victim.get("/api/v1/auth/me").status_code == 200
    assert admin.delete("/api/v1/tokens/victim-2").status_code == 204
    _assert_error(victim.get("/api/v1/auth/me"), 401, "unauthorized", "revoked via API")


def _login(server: ApiServer, scope: str) -> tuple[str, str]:
    response = server.client(None).post("/api/v1/auth/login", json={"token": server.tokens[scope]})
    assert response.status_code == 200, response.text
    session_id = response.cookies.get(SESSION_COOKIE)
    assert session_id
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    body = response.json()
    assert body["via"] == "session" and body["scope"] == scope and body["csrf_token"]
    return session_id, str(body["csrf_token"])


def test_a_session_cookie_without_the_csrf_header_cannot_change_state(matrix: Matrix) -> None:
    server = matrix.server
    session_id, csrf = _login(server, "admin")
    cookie = {"Cookie": f"{SESSION_COOKIE}={session_id}"}
    browser = server.client(None, headers=cookie)
    changing = [e for e in matrix.protected() if e.changes_state]
    assert changing
    for endpoint in changing:
        _assert_error(matrix.call(browser, endpoint), 403, "csrf", f"{endpoint.label} without header")
        wrong = {CSRF_HEADER: csrf[:-2] + ("AA" if not csrf.endswith("AA") else "BB")}
        _assert_error(matrix.call(browser, endpoint, headers=wrong), 403, "csrf", f"{endpoint.label} wrong")
    # Reads work with the cookie alone; writes work with the header.
    assert browser.get("/api/v1/connections").status_code == 200
    me = browser.get("/api/v1/auth/me").json()
    assert me["via"] == "session" and me["csrf_token"] == csrf
    created = browser.post(
        "/api/v1/tokens", json={"name": "via-session", "scope": "read"}, headers={CSRF_HEADER: csrf}
    )
    assert created.status_code == 201, created.text
    # Logging out ends the session.
    assert browser.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf}).status_code == 204
    _assert_error(browser.get("/api/v1/connections"), 401, "unauthorized", "after logout")


def test_a_session_ends_when_its_token_is_revoked(matrix: Matrix) -> None:
    server = matrix.server
    session_id, _csrf = _login(server, "read")
    browser = server.client(None, headers={"Cookie": f"{SESSION_COOKIE}={session_id}"})
    assert browser.get("/api/v1/connections").status_code == 200
    assert server.client("admin").delete(f"/api/v1/tokens/{server.token_names['read']}").status_code == 204
    _assert_error(browser.get("/api/v1/connections"), 401, "unauthorized", "session of a revoked token")


def test_a_session_keeps_its_token_scope(matrix: Matrix) -> None:
    session_id, csrf = _login(matrix.server, "read")
    browser = matrix.server.client(None, headers={"Cookie": f"{SESSION_COOKIE}={session_id}"})
    response = browser.post(
        "/api/v1/tokens", json={"name": "x", "scope": "admin"}, headers={CSRF_HEADER: csrf}
    )
    _assert_error(response, 403, "forbidden", "read session creating a token")


def test_login_rate_limit_and_audited_failures(matrix: Matrix) -> None:
    server = matrix.server
    anonymous = server.client(None)
    guesses = [f"tw_wrong-guess-{i}-{'x' * 30}" for i in range(LOGIN_MAX_FAILURES)]
    for guess in guesses:
        _assert_error(anonymous.post("/api/v1/auth/login", json={"token": guess}), 401, "unauthorized", guess)
    limited = anonymous.post("/api/v1/auth/login", json={"token": "tw_one-more-guess"})
    _assert_error(limited, 429, "too_many_failures", "sixth failure")
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= LOGIN_WINDOW_S
    # While the address is limited, a valid token still logs in: it is verified before the limit applies
    # (a right guess of 256 random bits is not a risk; locking out every local client is).
    right = anonymous.post("/api/v1/auth/login", json={"token": server.tokens["admin"]})
    assert right.status_code == 200, right.text
    # A bearer token from the same address is refused as well.
    _assert_error(server.client(token=guesses[0]).get("/api/v1/connections"), 429, "too_many_failures", "b")

    server.state.limiter = LoginLimiter()  # the window passes
    bad_bearer = server.client(token="tw_not-a-token-at-all-0123456789")
    _assert_error(bad_bearer.get("/api/v1/connections"), 401, "unauthorized", "bad bearer")
    page = server.client("admin").get("/api/v1/audit", params={"kind": "auth.failed", "page_size": 50})
    assert page.status_code == 200
    events = page.json()["items"]
    assert page.json()["total"] == LOGIN_MAX_FAILURES + 1
    assert {e["kind"] for e in events} == {"auth.failed"}
    assert {e["actor"] for e in events} == {"client:127.0.0.1"}
    paths = [e["detail"]["path"] for e in events]
    assert paths.count("/api/v1/auth/login") == LOGIN_MAX_FAILURES
    assert paths.count("/api/v1/connections") == 1
    assert all(e["detail"]["reason"] for e in events)
    # The guessed tokens are not written into the log.
    for guess in [*guesses, "tw_not-a-token-at-all-0123456789"]:
        assert guess not in page.text


def test_login_rate_limit_is_per_address(matrix: Matrix) -> None:
    """Another address keeps its allowance (checked on the limiter: every test client is 127.0.0.1)."""
    limiter = matrix.server.state.limiter
    for _ in range(LOGIN_MAX_FAILURES):
        limiter.failed("192.0.2.7")
    assert limiter.retry_after("192.0.2.7") > 0
    assert limiter.retry_after("127.0.0.1") == 0
    assert matrix.server.client("read").get("/api/v1/auth/me").status_code == 200


def test_a_token_revoked_by_another_process_stops_working_within_the_cache_ttl(
    api_server: ApiServer, cli: Cli
) -> None:
    """Valid tokens are believed for tokens.AUTH_CACHE_TTL_S; the CLI revoking one is seen after that."""
    reader = api_server.client("read")
    assert reader.get("/api/v1/auth/me").status_code == 200  # now in the server's cache
    revoked = cli(
        "tokens",
        "revoke",
        api_server.token_names["read"],
        subprocess_=True,
        env={"TRADEWARDEN_HOME": str(api_server.home)},
    )
    assert revoked.code == 0, revoked.stderr
    deadline = time.monotonic() + tokens.AUTH_CACHE_TTL_S + 1.0
    while reader.get("/api/v1/auth/me").status_code == 200:
        assert time.monotonic() < deadline, "the revoked token still works after the cache TTL"
        time.sleep(0.1)
    _assert_error(reader.get("/api/v1/auth/me"), 401, "unauthorized", "revoked by the CLI")
