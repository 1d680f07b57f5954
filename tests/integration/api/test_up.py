"""`tradewarden up` (what `make run` runs): no passphrase, no network, no terminal, and a working platform."""

from __future__ import annotations

import signal
import stat
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Cli
from tests.integration.api.conftest import CliProcess, cli_process, free_port

UP_TIMEOUT_S = 60.0
STOPPED = (0, -signal.SIGTERM)


def _start(up: CliProcess, port: int) -> tuple[str, str]:
    """Wait for the banner and the server; the base URL and the login token."""
    up.wait_for_output(rf"Dashboard: http://127\.0\.0\.1:{port}/", UP_TIMEOUT_S)
    token = up.wait_for_output(r"Login token \(admin, shown once\): (tw_\S+)", 5).group(1)
    base = f"http://127.0.0.1:{port}"
    up.wait_for_health(base, UP_TIMEOUT_S)
    return base, token


def _connections(base: str, token: str) -> Any:
    response = httpx.get(
        f"{base}/api/v1/connections",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        trust_env=False,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _post(base: str, token: str, path: str, body: Any) -> Any:
    response = httpx.post(
        f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60, trust_env=False
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_up_twice_in_one_home(cli: Cli, tmp_path: Path) -> None:
    """Issue 10: the simulator `up` starts keeps its port (recorded in the home) and comes back on every
    run while a connection points at it; every simulator-backed connection is Online after the re-test."""
    env = {k: v for k, v in cli.env.items() if k != "TRADEWARDEN_PASSPHRASE"}
    sim_port = free_port()  # not the default 8765: other test runs may share this machine

    port = free_port()
    with cli_process(["up", "--port", str(port), "--sim-port", str(sim_port)], env, tmp_path, "up-1") as up:
        base, token = _start(up, port)
        [demo] = _connections(base, token)
        assert (demo["name"], demo["status"], demo["exchange"]) == ("Demo (simulator)", "online", "binance")
        sim_url = f"http://127.0.0.1:{sim_port}"
        assert demo["endpoint"] == sim_url and demo["simulated"] is True
        assert "Demo (simulator)': online" in up.stdout()
        assert "vault passphrase was generated" in up.stderr()
        info = httpx.get(
            f"{base}/api/v1/server-info",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            trust_env=False,
        ).json()
        assert info["simulator_url"] == sim_url
        # A connection of the user's own on the simulator, with a key minted there.
        key = _post(
            sim_url,
            token,
            "/_sim/keys",
            {"venue": "kucoin", "permissions": ["read", "spot_trade"], "ip_whitelist": ["127.0.0.1"]},
        )
        created = _post(
            base,
            token,
            "/api/v1/connections",
            {
                "name": "KuCoin Sim",
                "exchange": "kucoin",
                "endpoint": sim_url,
                "test": True,
                "credentials": {f: key[f] for f in ("apiKey", "secret", "password")},
            },
        )
        assert created["status"] == "online" and created["simulated"] is True
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it: "killed by SIGTERM" is the norm.
        assert up.stop() in STOPPED, up.describe()
        assert "Traceback" not in up.stderr()
    passphrase_file = cli.home / "vault-passphrase"
    assert stat.S_IMODE(passphrase_file.stat().st_mode) == 0o600
    assert f'"port": {sim_port}' in (cli.home / "simulator.json").read_text()

    # Again in the same home, with no --sim-port: the simulator comes back on the recorded port, knows the
    # connections' keys again, and both connections pass their re-test.
    port = free_port()
    with cli_process(["up", "--port", str(port)], env, tmp_path, "up-2") as up:
        base, second_token = _start(up, port)
        listed = {c["name"]: c for c in _connections(base, second_token)}
        assert {n: (c["status"], c["endpoint"]) for n, c in listed.items()} == {
            "Demo (simulator)": ("online", sim_url),
            "KuCoin Sim": ("online", sim_url),
        }, up.stdout()
        assert "vault passphrase was generated" not in up.stderr()
        # The first run's login token was replaced.
        stale = httpx.get(
            f"{base}/api/v1/connections",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
            trust_env=False,
        )
        assert stale.status_code == 401
        assert up.stop() in STOPPED, up.describe()
