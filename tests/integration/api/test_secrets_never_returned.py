"""Secrets are write-only: no response body or header of any route carries a secret, even in part."""

from __future__ import annotations

from tests.conftest import PASSPHRASE
from tests.integration.api.conftest import ApiServer, endpoints, fill_path
from tests.integration.helpers import find_leaks
from tests.integration.simtools import SimAdmin
from tradewarden.api.auth import CSRF_HEADER, SESSION_COOKIE
from tradewarden.sim import ThreadedSim

TOKEN_PREFIX_SHOWN = 10  # `prefix` in token listings: "tw_" and 7 characters


def test_no_route_returns_a_secret(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    server = api_server
    admin = server.client("admin")
    binance = sim_admin.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
    kucoin = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    kucoin_next = sim_admin.key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
    risky = sim_admin.key("binance", ["read", "spot_trade", "withdraw"], ["127.0.0.1"])
    keys = [binance, kucoin, kucoin_next, risky]

    def creds(key: dict[str, str]) -> dict[str, str]:
        return {k: key[k] for k in ("apiKey", "secret", "password") if k in key}

    # Log in for a session too: the dashboard's path through the same routes.
    login = server.client(None).post("/api/v1/auth/login", json={"token": server.tokens["admin"]})
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    browser = server.client(None, headers={"Cookie": f"{SESSION_COOKIE}={login.cookies[SESSION_COOKIE]}"})

    steps = [
        admin.post(
            "/api/v1/connections",
            json={
                "name": "Binance",
                "exchange": "binance",
                "endpoint": threaded_sim.url,
                "credentials": creds(binance),
            },
        ),
        browser.post(
            "/api/v1/connections",
            json={
                "name": "KuCoin",
                "exchange": "kucoin",
                "endpoint": threaded_sim.url,
                "credentials": creds(kucoin),
            },
            headers={CSRF_HEADER: csrf},
        ),
        admin.post("/api/v1/connections/Binance/test"),
        browser.post("/api/v1/connections/KuCoin/test", headers={CSRF_HEADER: csrf}),
        admin.post("/api/v1/connections/KuCoin/rotate", json={"credentials": creds(kucoin_next)}),
        admin.post("/api/v1/connections/Binance/rotate", json={"credentials": creds(risky)}),  # refused
        # Bad input carrying secrets: refused without echoing them.
        admin.post(
            "/api/v1/connections/Binance/rotate",
            json={"credentials": {**creds(binance), "secret": f" {binance['secret']} "}},
        ),
        admin.post(
            "/api/v1/connections",
            json={"name": "Dup", "exchange": "kucoin", "credentials": {**creds(kucoin), "password": ""}},
        ),
        admin.post(
            "/api/v1/connections",
            json={"name": "Binance", "exchange": "binance", "credentials": creds(binance)},  # duplicate
        ),
        admin.get("/api/v1/connections"),
        browser.get("/api/v1/connections"),
        admin.get("/api/v1/connections/Binance"),
        admin.get("/api/v1/connections/KuCoin"),
        admin.get("/api/v1/connections/Binance/history"),
        admin.get("/api/v1/connections/KuCoin/history"),
        admin.get("/api/v1/audit", params={"page_size": 500}),
        admin.get("/api/v1/auth/me"),
        browser.get("/api/v1/auth/me"),
    ]
    created_token = admin.post("/api/v1/tokens", json={"name": "grafana", "scope": "read"})
    assert created_token.status_code == 201
    new_token = created_token.json()["token"]
    reader = server.client(token=new_token)
    steps += [
        admin.get("/api/v1/tokens"),
        admin.get("/api/v1/tokens", params={"include_revoked": True}),
        reader.get("/api/v1/auth/me"),
        reader.get("/api/v1/connections"),
        reader.post("/api/v1/auth/login", json={"token": new_token}),
    ]
    # Every GET route, including ones added later (portfolio, metrics, ...), by admin and by a session.
    values = {"connection": "Binance", "token": "grafana", "exchange_id": "kucoin"}
    for endpoint in endpoints(server.fastapi):
        if endpoint.method == "GET":
            steps.append(admin.get(fill_path(endpoint.path, values)))
            steps.append(browser.get(fill_path(endpoint.path, values)))
    steps += [
        admin.delete("/api/v1/connections/KuCoin"),
        admin.delete("/api/v1/tokens/grafana"),
        admin.get("/api/v1/audit", params={"page_size": 500}),
        browser.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf}),
    ]
    statuses = [r.status_code for r in steps]
    assert statuses[:6] == [201, 201, 200, 200, 200, 200], [r.text[:200] for r in steps[:6]]
    assert steps[4].json()["rotated"] is True and steps[5].json()["rotated"] is False
    assert statuses[6:9] == [422, 422, 409]
    assert all(status < 500 for status in statuses)

    transcript = server.transcript
    assert len(transcript) >= len(steps) + 1
    blobs = [exchange.blob() for exchange in transcript]
    secrets = [PASSPHRASE]
    for key in keys:
        secrets += [key["secret"], *([key["password"]] if key.get("password") else [])]
    assert find_leaks(blobs, secrets) == []
    # API keys only ever masked (first and last four characters).
    assert find_leaks(blobs, [key["apiKey"] for key in keys]) == []
    # The bearer tokens in use never come back.
    assert find_leaks(blobs, [token[TOKEN_PREFIX_SHOWN:] for token in server.tokens.values()]) == []
    # The created token: in full in its create response, nowhere else, not even in part.
    holders = [exchange for exchange in transcript if new_token.encode() in exchange.blob()]
    assert [(h.method, h.url.removeprefix(server.url), h.status) for h in holders] == [
        ("POST", "/api/v1/tokens", 201)
    ]
    others = [exchange.blob() for exchange in transcript if exchange not in holders]
    assert find_leaks(others, [new_token[TOKEN_PREFIX_SHOWN:]]) == []
    # And nothing in the home directory (database, logs) holds them in plaintext either.
    on_disk = [path.read_bytes() for path in server.home.rglob("*") if path.is_file()]
    assert find_leaks(on_disk, secrets) == []


def test_log_redaction_keeps_records_formattable() -> None:
    """The redacting filter rewrites records every handler shares: "%d" of a status must still format
    (it once turned every argument into a string, so httpx's request log line raised TypeError)."""
    import logging

    from tradewarden.adapters.vault.redaction import RedactingFilter
    from tradewarden.adapters.vault.secret import Secret

    secret = Secret("Kq7-live-secret-value-Zp3")

    class Holder:
        def __str__(self) -> str:
            return f"holder of {secret.reveal()}"

    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP %s %d %s", ("GET", 200, Holder()), None
    )
    assert RedactingFilter().filter(record)
    message = record.getMessage()
    assert message.startswith("HTTP GET 200 holder of ")
    assert secret.reveal() not in message
