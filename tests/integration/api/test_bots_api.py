"""Issue 15: bots through the API on the simulator (scope trade changes them, read views them)."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.integration.api.conftest import ApiServer
from tests.integration.bots.conftest import DCA_SETTINGS, NO_CACHE
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import api_connection, pin_price
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.sim import ThreadedSim

BASE = "/api/v1/bots"


def _bot(name: str, connection: str = "Main", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "connection": connection,
        "strategy": "dca",
        "pairs": ["BTC/USDT"],
        "settings": dict(DCA_SETTINGS),
        **extra,
    }


def _error(response: httpx.Response, status: int, code: str, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    if field is not None:
        assert body["error"].get("field") == field, body
    message: str = body["error"]["message"]
    assert message
    return message


def _rounds(server: ApiServer, sim: ThreadedSim, admin: SimAdmin, prices: list[int]) -> dict[str, int]:
    """Drive the server's bots with a runner on its store, one round per price (fresh prices each)."""

    async def run() -> dict[str, int]:
        hub = MarketHub(HubConfig(default_endpoint=sim.url, ttl_s=NO_CACHE))
        try:
            runner = BotRunner(server.app, hub, None, RunnerConfig())
            for price in prices:
                pin_price(admin, "mexc", price=Decimal(price))
                await runner.round()
            return dict(runner.config.errors)
        finally:
            await hub.close()

    return asyncio.run(run())


def test_create_list_show_start_fill_stop_remove(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    api_connection(api_server, threaded_sim, sim_admin, "Main", "mexc")
    pin_price(sim_admin, "mexc")
    trade, read = api_server.client("trade"), api_server.client("read")

    assert read.post(BASE, json=_bot("d1")).status_code == 403  # read may not create
    made = trade.post(BASE, json=_bot("d1", risk="balanced", margin_limit="2000", recovery=True))
    assert made.status_code == 201, made.text
    bot = made.json()
    assert bot["name"] == "d1" and bot["mode"] == "paper" and bot["status"] == "created"
    assert bot["connection"] == "Main" and bot["pairs"] == ["BTC/USDT"] and bot["recovery"] is True
    assert Decimal(bot["margin_limit"]) == 2000 and Decimal(bot["max_commit"]) > 0
    assert bot["settings"]["base_order"] == "100"

    listed = read.get(BASE)
    assert listed.status_code == 200 and [b["name"] for b in listed.json()] == ["d1"]
    shown = read.get(f"{BASE}/d1")
    assert shown.status_code == 200 and [h["kind"] for h in shown.json()["history"]] == ["created"]

    assert read.post(f"{BASE}/d1/start", json={}).status_code == 403
    started = trade.post(f"{BASE}/d1/start", json={})
    assert started.status_code == 200 and started.json()["status"] == "running", started.text

    assert _rounds(api_server, threaded_sim, sim_admin, [50000, 48900, 48800]) == {}
    orders = read.get(f"{BASE}/d1/orders")
    assert orders.status_code == 200, orders.text
    kinds = {(o["side"], o["kind"], o["status"]) for o in orders.json()}
    assert ("buy", "entry", "closed") in kinds and ("buy", "addon", "closed") in kinds, kinds
    fills = read.get(f"{BASE}/d1/fills").json()
    assert [f["kind"] for f in fills] == ["entry", "addon"], fills
    assert all(f["side"] == "buy" and Decimal(f["price"]) > 0 and f["ts_ms"] > 0 for f in fills)
    assert fills[0]["ts_ms"] <= fills[1]["ts_ms"]
    shown = read.get(f"{BASE}/d1").json()
    pair = shown["pair_states"]["BTC/USDT"]
    assert Decimal(pair["average_price"]) < 50000 and Decimal(shown["margin_used"]) > 0
    assert pair["triggers"]["high"] is not None  # the take-profit line of the chart
    assert shown["addons_used"] == 1 and shown["groups"] == 1

    candles = read.get(f"{BASE}/d1/candles", params={"timeframe": "1m", "limit": 50})
    assert candles.status_code == 200, candles.text
    rows = candles.json()["candles"]
    assert candles.json()["pair"] == "BTC/USDT" and 0 < len(rows) <= 50
    assert all(len(r) == 6 and Decimal(str(r[2])) >= Decimal(str(r[3])) for r in rows)
    _error(read.get(f"{BASE}/d1/candles", params={"pair": "ETH/USDT"}), 422, "invalid_input", "pair")

    # DCA sends market orders: nothing is open, so "cancel orders" cancels none (the bot still stops).
    assert read.post(f"{BASE}/d1/stop", json={"cancel_orders": True}).status_code == 403
    _error(trade.delete(f"{BASE}/d1"), 422, "invalid_input")  # running: stop it first
    stopped = trade.post(f"{BASE}/d1/stop", json={"cancel_orders": True})
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["bot"]["status"] == "stopped" and stopped.json()["canceled"] == []
    assert "orders canceled" in stopped.json()["bot"]["status_reason"]

    refused = trade.post(f"{BASE}/d1/close-position", json={})
    _error(refused, 409, "confirmation_required", "confirm")
    closed = trade.post(f"{BASE}/d1/close-position", json={"confirm": True})
    assert closed.status_code == 200, closed.text
    assert [(o["side"], o["status"]) for o in closed.json()["orders"]] == [("sell", "closed")]

    assert read.delete(f"{BASE}/d1").status_code == 403
    assert trade.delete(f"{BASE}/d1").status_code == 204
    _error(read.get(f"{BASE}/d1"), 404, "not_found", "name")
    assert read.get(BASE).json() == []


def test_bad_inputs_are_4xx_in_the_error_shape_and_change_nothing(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    api_connection(api_server, threaded_sim, sim_admin, "Main", "mexc")
    api_connection(api_server, threaded_sim, sim_admin, "BinTest", "binance", key_testnet=True, testnet=True)
    trade = api_server.client("trade")

    message = _error(
        trade.post(BASE, json=_bot("x", strategy="martingale")), 422, "invalid_input", "strategy"
    )
    assert "dca" in message and "grid" in message
    bad_set = _bot("x", settings={**DCA_SETTINGS, "no_such_key": "1"})
    _error(trade.post(BASE, json=bad_set), 422, "invalid_input")
    _error(trade.post(BASE, json=_bot("x", pairs=[])), 422, "invalid_input", "pairs")
    _error(trade.post(BASE, json=_bot("x", connection="Nope")), 404, "not_found")
    _error(trade.post(BASE, json={**_bot("x"), "secret": "s"}), 422, "invalid_input")

    # Live asks for confirmation first, naming the most the bot may commit; on a testnet it is refused.
    live = _bot("x", mode="live", margin_limit="1000")
    message = _error(trade.post(BASE, json=live), 409, "confirmation_required", "confirm")
    assert "812.5" in message  # the worst case of its settings, under the 1000 limit
    testnet = _bot("x", connection="BinTest", mode="live", confirm=True)
    assert "testnet" in _error(trade.post(BASE, json=testnet), 422, "invalid_input", "mode")

    assert trade.post(BASE, json=_bot("d1")).status_code == 201
    _error(trade.post(BASE, json=_bot("D1")), 409, "conflict", "name")  # names compare case-folded
    assert [b["name"] for b in trade.get(BASE).json()] == ["d1"]

    # A live bot: created with confirm, started only with confirm.
    made = trade.post(BASE, json={**live, "name": "live1", "confirm": True})
    assert made.status_code == 201 and made.json()["mode"] == "live", made.text
    message = _error(trade.post(f"{BASE}/live1/start", json={}), 409, "confirmation_required", "confirm")
    assert "812.5" in message  # the worst case of its settings, under the 1000 limit
    assert trade.get(f"{BASE}/live1").json()["status"] == "created"

    for path in ("nope", "nope/orders", "nope/fills", "nope/candles"):
        _error(trade.get(f"{BASE}/{path}"), 404, "not_found", "name")
    _error(trade.post(f"{BASE}/nope/start", json={}), 404, "not_found")
    _error(trade.post(f"{BASE}/nope/stop", json={}), 404, "not_found")
    _error(trade.delete(f"{BASE}/nope"), 404, "not_found")
    assert trade.put(f"{BASE}/d1/start", json={}).status_code == 405


def _frames(ws: Any, wanted: set[str], timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Stream frames until one of each `wanted` type arrived (bounded in time)."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while wanted - {f["type"] for f in got}:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted - {f['type'] for f in got}} frame in {timeout_s}s: {got}"
        got.append(json.loads(ws.recv(timeout=left)))
    return got


def test_the_live_stream_carries_bot_order_and_fill_events(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    api_connection(api_server, threaded_sim, sim_admin, "Main", "mexc")
    pin_price(sim_admin, "mexc")
    trade = api_server.client("trade")
    url = api_server.url.replace("http://", "ws://") + "/api/v1/stream"
    headers = {"Authorization": f"Bearer {api_server.tokens['read']}"}
    with connect(url, additional_headers=headers, open_timeout=10) as ws:
        assert _frames(ws, {"hello"})[0]["scope"] == "read"
        bot_id = trade.post(BASE, json=_bot("d1")).json()["id"]
        assert trade.post(f"{BASE}/d1/start", json={}).status_code == 200
        assert _rounds(api_server, threaded_sim, sim_admin, [50000]) == {}
        frames = _frames(ws, {"bot", "order", "fill"})
    bots = [f for f in frames if f["type"] == "bot"]
    assert [(f["bot"], f["status"], f["detail"]["kind"]) for f in bots[:2]] == [
        ("d1", "created", "created"),
        ("d1", "running", "started"),
    ]
    fill = next(f for f in frames if f["type"] == "fill")
    assert fill["bot"] == f"bot:{bot_id}" and fill["side"] == "buy" and fill["paper"] is True
    assert Decimal(fill["price"]) > 0
