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


def test_up_twice_in_one_home(cli: Cli, tmp_path: Path) -> None:
    env = {k: v for k, v in cli.env.items() if k != "TRADEWARDEN_PASSPHRASE"}

    port = free_port()
    with cli_process(["up", "--port", str(port)], env, tmp_path, "up-1") as up:
        base, token = _start(up, port)
        [demo] = _connections(base, token)
        assert (demo["name"], demo["status"], demo["exchange"]) == ("Demo (simulator)", "online", "binance")
        first_endpoint = demo["endpoint"]
        assert first_endpoint.startswith("http://127.0.0.1:")
        assert "Demo (simulator)': online" in up.stdout()
        assert "vault passphrase was generated" in up.stderr()
        # uvicorn shuts down gracefully on SIGTERM, then re-raises it: "killed by SIGTERM" is the norm.
        assert up.stop() in STOPPED, up.describe()
        assert "Traceback" not in up.stderr()
    passphrase_file = cli.home / "vault-passphrase"
    assert stat.S_IMODE(passphrase_file.stat().st_mode) == 0o600

    # Again in the same home: the previous simulator is gone, the demo is re-pointed to a new one.
    port = free_port()
    with cli_process(["up", "--port", str(port)], env, tmp_path, "up-2") as up:
        base, second_token = _start(up, port)
        [demo] = _connections(base, second_token)
        assert (demo["name"], demo["status"]) == ("Demo (simulator)", "online")
        assert demo["endpoint"] != first_endpoint
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
