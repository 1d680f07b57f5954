"""The leak scan's bot and notification steps: a server that also runs the bot runner, paper and live bots
made through the API and the CLI, a webhook channel to a local receiver and a Telegram channel to a fake
Bot API (the token travels in the request path, as Telegram's API wants it), a bot pause and resume.

`bot_steps` returns the secrets it added (the webhook signing key, the Telegram token) and what happened;
`deliveries` gives the receiver's bodies and headers as haystacks (the Telegram path is left out: the
token belongs there, and only there).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import SCOPES, ApiServer, make_app
from tests.integration.notifications.conftest import TELEGRAM_TOKEN, Receiver
from tests.integration.simtools import SimAdmin
from tests.serving import serve_in_thread
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api import background
from tradewarden.api.app import create_app
from tradewarden.api.server import ServeOptions, build_state
from tradewarden.services import tokens
from tradewarden.services.notifications import channels

DCA = {"base_order": "100", "addon_order": "150", "addon_count": "3", "addon_deviation_pct": "2",
       "take_profit_pct": "1", "stop_loss_pct": "8"}  # fmt: skip


@contextlib.contextmanager
def bot_server(home: Path) -> Iterator[ApiServer]:
    """`running_server` (tests/integration/api/conftest.py) plus what `tradewarden serve` adds: the market
    hub and the bot runner (stepping every 0.3 s)."""
    saved = os.environ.get("TRADEWARDEN_BOT_INTERVAL_S")
    os.environ["TRADEWARDEN_BOT_INTERVAL_S"] = "0.3"
    app = make_app(home)
    issued = {scope: tokens.create_token(app, f"{scope}-token", scope)[1].reveal() for scope in SCOPES}
    state = build_state(app, Secret(PASSPHRASE), ServeOptions(monitor_interval_s=3600.0))
    state.background_jobs += [background.market_hub, background.bot_runner]
    fastapi_app = create_app(state)
    try:
        with serve_in_thread(fastapi_app) as url:
            server = ApiServer(url=url, home=home, app=app, state=state, fastapi=fastapi_app, tokens=issued,
                               token_names={scope: f"{scope}-token" for scope in SCOPES})  # fmt: skip
            try:
                yield server
            finally:
                server.close_clients()
    finally:
        app.close()
        if saved is None:
            os.environ.pop("TRADEWARDEN_BOT_INTERVAL_S", None)
        else:
            os.environ["TRADEWARDEN_BOT_INTERVAL_S"] = saved


def _wait(what: str, check: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        time.sleep(0.2)


def bot_steps(
    server: ApiServer, cli: Cli, admin: SimAdmin, receiver: Receiver, inputs: Path, price: float
) -> tuple[list[str], list[str]]:
    """Bots in both modes on "Bin Main" with notifications on; (secrets added, what happened)."""
    admin_api, trade_api, read_api = server.client("admin"), server.client("trade"), server.client("read")
    done: list[str] = []
    admin.venue("binance", down=False)
    done.append(f"API re-test Bin Main: {admin_api.post('/api/v1/connections/Bin Main/test').status_code}")
    _view, signing_key = channels.add_webhook(
        server.app, Secret(PASSPHRASE), "ops hook", receiver.url + "/hook", "all"
    )
    token_file = inputs / "telegram-token.txt"  # outside the scanned temp dir: the user's own file
    token_file.write_text(TELEGRAM_TOKEN)
    added = cli("notifications", "add", "phone", "--telegram", "--chat-id", "42", "--token-file",
                str(token_file), "--api-base", receiver.url + "/tg", "--json")  # fmt: skip
    done.append(f"CLI add Telegram: {added.code} {added.stderr[:200]}")
    done.append(f"CLI notifications test: {cli('notifications', 'test', 'phone').code}")
    body = {"name": "api paper", "connection": "Bin Main", "strategy": "dca", "pairs": ["BTC/USDT"],
            "mode": "paper", "settings": DCA}  # fmt: skip
    done.append(f"API create paper bot: {trade_api.post('/api/v1/bots', json=body).status_code}")
    started = trade_api.post("/api/v1/bots/api paper/start", json={"confirm": True})
    done.append(f"API start paper bot: {started.status_code}")
    sets = [a for k, v in DCA.items() for a in ("--set", f"{k}={v}")]
    made = cli("bots", "create", "cli live", "--connection", "Bin Main", "--strategy", "dca", "--pair",
               "BTC/USDT", "--mode", "live", *sets, "--yes", "--json")  # fmt: skip
    done.append(f"CLI create live bot: {made.code} {made.stderr[:200]}")
    done.append(f"CLI start live bot: {cli('bots', 'start', 'cli live', '--yes').code}")

    def figure(name: str, key: str) -> int:
        shown = read_api.get(f"/api/v1/bots/{name}")
        figures = shown.json().get("pair_states", {}).get("BTC/USDT", {}) if shown.status_code == 200 else {}
        return int(figures.get(key) or 0)

    _wait("both bots entered", lambda: all(figure(n, "groups") >= 1 for n in ("api paper", "cli live")))
    done.append("bots entered")
    admin.call("POST", "/_sim/market", {"venue": "binance", "symbol": "BTC/USDT", "price": price * 0.978})
    # an add-on each (fills, notified) before the venue goes down: an add-on sent into the outage keeps the
    # live bot's round in its lookups for a while, and the pause comes only with the next round
    _wait("both bots added on", lambda: all(figure(n, "addons_used") >= 1 for n in ("api paper", "cli live")))
    admin.venue("binance", down=True)
    done.append(f"API test venue down: {admin_api.post('/api/v1/connections/Bin Main/test').status_code}")
    _wait(
        "the bots paused",
        lambda: read_api.get("/api/v1/bots/cli live").json().get("status") == "paused",
        timeout_s=60.0,
    )
    admin.venue("binance", down=False)
    done.append(f"API test venue up: {admin_api.post('/api/v1/connections/Bin Main/test').status_code}")
    _wait("the bots resumed", lambda: read_api.get("/api/v1/bots/cli live").json().get("status") == "running")
    for path in ("/api/v1/bots", "/api/v1/bots/api paper", "/api/v1/bots/cli live/orders",
                 "/api/v1/bots/cli live/fills"):  # fmt: skip
        done.append(f"GET {path}: {read_api.get(path).status_code}")
    shown = [("bots", "list", "--json"), ("bots", "show", "cli live", "--json"),
             ("bots", "orders", "api paper", "--json"), ("notifications", "list", "--json")]  # fmt: skip
    done.append(f"CLI bots/notifications views: {[cli(*c).code for c in shown]}")
    stopped = trade_api.post("/api/v1/bots/api paper/stop", json={"cancel_orders": True}).status_code
    done.append(f"API stop paper bot: {stopped}; CLI stop live bot: {cli('bots', 'stop', 'cli live').code}")
    _wait("notifications delivered", lambda: len(receiver.on("/hook")) >= 4)
    return [signing_key.reveal(), TELEGRAM_TOKEN], done


def deliveries(receiver: Receiver) -> list[bytes]:
    """Every delivered request's body and headers (not the Telegram path, where the token belongs)."""
    with receiver.lock:
        got = list(receiver.received)
    return [r.body + b"\n" + json.dumps(r.headers).encode() for r in got]
