"""Failed-authentication limits: per source address (loopback is one), per token prefix, globally; never
against a valid token. On a real uvicorn server bound to 127.0.0.1 (clients pick their 127.0.0.x source).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.integration.api.conftest import HTTP_TIMEOUT_S, ApiServer, running_server
from tradewarden.api.state import (
    AUTH_MAX_GLOBAL_FAILURES,
    LOGIN_MAX_FAILURES,
    LOGIN_WINDOW_S,
    LoginLimiter,
    address_bucket,
)

BAD = "tw_attacker-guess-{i}-" + "x" * 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """A fresh real server on loopback."""
    with running_server(tmp_path / "home") as running:
        yield running


def _client(server: ApiServer, token: str | None, source: str = "127.0.0.1") -> httpx.Client:
    """A client whose connections leave from `source` (any 127.0.0.x reaches the loopback server)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(
        base_url=server.url, headers=headers, timeout=HTTP_TIMEOUT_S, trust_env=False, transport=transport
    )


def _spend_allowance(server: ApiServer, source: str = "127.0.0.1") -> httpx.Response:
    """LOGIN_MAX_FAILURES bad bearer tokens (each 401), then one more: the limited answer."""
    for i in range(LOGIN_MAX_FAILURES):
        with _client(server, BAD.format(i=i), source) as attacker:
            assert attacker.get("/api/v1/connections").status_code == 401
    with _client(server, BAD.format(i="last"), source) as attacker:
        return attacker.get("/api/v1/connections")


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_failures"
    assert 1 <= int(response.headers["retry-after"]) <= LOGIN_WINDOW_S


@pytest.mark.attack("bad bearer tokens lock out valid ones")
def test_valid_tokens_keep_working_while_bad_ones_from_their_address_are_limited(server: ApiServer) -> None:
    """Five bad bearer tokens from 127.0.0.1 limit bad tokens only; every valid credential still works."""
    _assert_limited(_spend_allowance(server))
    with _client(server, server.tokens["read"]) as reader:
        assert reader.get("/api/v1/connections").status_code == 200
        assert reader.get("/api/v1/auth/me").json()["scope"] == "read"
    # A token the server has not seen yet (not in its auth cache) is verified and admitted too.
    with _client(server, server.tokens["admin"]) as admin:
        created = admin.post("/api/v1/tokens", json={"name": "fresh", "scope": "read"})
        assert created.status_code == 201, created.text
    with _client(server, created.json()["token"]) as fresh:
        assert fresh.get("/api/v1/auth/me").status_code == 200
    # The dashboard's login and the live stream admit a valid token as well.
    with _client(server, None) as anonymous:
        login = anonymous.post("/api/v1/auth/login", json={"token": server.tokens["trade"]})
        assert login.status_code == 200, login.text
        _assert_limited(anonymous.post("/api/v1/auth/login", json={"token": BAD.format(i="login")}))
    assert asyncio.run(_stream_hello(server, server.tokens["read"]))["type"] == "hello"
    # Meanwhile every bad token is still refused with 429.
    with _client(server, BAD.format(i=0)) as attacker:
        _assert_limited(attacker.get("/api/v1/auth/me"))
    # The refusals are audited once for the address, not once per request.
    with _client(server, server.tokens["admin"]) as admin:
        limited = admin.get("/api/v1/audit", params={"kind": "auth.limited"}).json()
    assert limited["total"] == 1 and limited["items"][0]["actor"] == "client:127.0.0.1", limited


async def _stream_hello(server: ApiServer, token: str) -> dict[str, object]:
    ws_url = "ws" + server.url.removeprefix("http") + "/api/v1/stream"
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(ws_url, additional_headers=headers, proxy=None, open_timeout=HTTP_TIMEOUT_S) as ws:
        async with asyncio.timeout(HTTP_TIMEOUT_S):
            message = json.loads(await ws.recv())
    assert isinstance(message, dict)
    return message


@pytest.mark.attack("rotating loopback source addresses")
def test_rotating_loopback_addresses_share_one_budget(server: ApiServer) -> None:
    """127.0.0.2, .3, ... are all loopback: one bucket, so rotating them does not reset the count."""
    for i in range(LOGIN_MAX_FAILURES):
        with _client(server, BAD.format(i=i), f"127.0.0.{i + 2}") as attacker:
            assert attacker.get("/api/v1/auth/me").status_code == 401
    with _client(server, BAD.format(i="next"), "127.0.0.200") as attacker:
        _assert_limited(attacker.get("/api/v1/auth/me"))
    with _client(server, None, "127.0.0.201") as anonymous:
        _assert_limited(anonymous.post("/api/v1/auth/login", json={"token": BAD.format(i="login")}))
    with _client(server, server.tokens["read"], "127.0.0.202") as reader:
        assert reader.get("/api/v1/auth/me").status_code == 200


@pytest.mark.attack("rotating loopback source addresses")
def test_address_buckets() -> None:
    """Loopback (v4, v6, v4-mapped) is one bucket; an IPv6 client is its /64; other IPv4 addresses apart."""
    loopback = {address_bucket(a) for a in ("127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.5")}
    assert loopback == {"loopback"}
    assert address_bucket("2001:db8:1:2::1") == address_bucket("2001:db8:1:2:ffff::9")
    assert address_bucket("2001:db8:1:2::1") != address_bucket("2001:db8:1:3::1")
    assert address_bucket("192.0.2.7") != address_bucket("192.0.2.8")


@pytest.mark.attack("one token prefix guessed from many addresses")
def test_failures_count_per_token_prefix_across_addresses() -> None:
    """Guesses at one token prefix (the part `tokens list` shows) from many addresses share a budget."""
    limiter = LoginLimiter()
    for i in range(LOGIN_MAX_FAILURES):
        assert limiter.retry_after(f"192.0.2.{i}", "tw_AbCdEfG-guess") == 0
        limiter.failed(f"192.0.2.{i}", f"tw_AbCdEfG-guess-{i}")
    assert limiter.retry_after("198.51.100.1", "tw_AbCdEfGzzzz") > 0
    assert limiter.retry_after("198.51.100.1", "tw_Other00-guess") == 0


@pytest.mark.attack("bad tokens from many addresses")
def test_a_global_budget_limits_failures_from_every_source_together() -> None:
    """Distinct addresses and prefixes each under their own limit still exhaust the global budget."""
    limiter = LoginLimiter()
    for i in range(AUTH_MAX_GLOBAL_FAILURES):
        address, prefix = f"10.{i // 250}.{i % 250}.1", f"tw_{i:07d}"
        assert limiter.retry_after(address, prefix) == 0, i
        limiter.failed(address, prefix)
    wait = limiter.retry_after("203.0.113.9", "tw_fresh000")
    assert 1 <= wait <= LOGIN_WINDOW_S
