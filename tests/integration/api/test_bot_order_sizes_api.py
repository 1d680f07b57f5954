"""Order sizes against the venue's rules through the API, on the simulator's Binance USD-M.

A 100 USDT base order at 50,001 buys 0.001 BTC after rounding to the 0.001 step, under the 100 USDT
minimum notional: POST /bots answers 422 in the API's error shape naming the order, the market, the rule
and the smallest passing base order, and stores nothing; 150.01 is created; a start at a price where it
no longer passes is refused the same way and the bot stays `created`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tests.integration.api.conftest import ApiServer
from tests.integration.bots.conftest import DCA_SETTINGS
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import api_connection, pin_price
from tradewarden.sim import ThreadedSim

PERP = "BTC/USDT:USDT"
FUTURES_PERMS = ["read", "spot_trade", "futures_trade"]
SMALLEST = re.compile(r"set base_order to at least ([0-9.,]+) USDT")


def test_api_refuses_with_the_message_and_stores_nothing(
    api_server: ApiServer, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    api_connection(api_server, threaded_sim, sim_admin, "U", "binance", FUTURES_PERMS, market="futures")
    pin_price(sim_admin, "binance", price=Decimal("50001"))
    trade = api_server.client("trade")

    def bot(name: str, base: str) -> dict[str, object]:
        settings = {**DCA_SETTINGS, "base_order": base}
        return {"name": name, "connection": "U", "strategy": "dca", "pairs": [PERP], "settings": settings}

    refused = trade.post("/api/v1/bots", json=bot("small", "100"))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_input", body
    message = body["error"]["message"]
    assert "binanceusdm BTC/USDT:USDT's minimum notional 100 USDT" in message, message
    assert "0.001 BTC" in message and SMALLEST.search(message), message
    assert trade.get("/api/v1/bots").json() == []

    made = trade.post("/api/v1/bots", json=bot("fits", "150.01"))
    assert made.status_code == 201, made.text
    pin_price(sim_admin, "binance", price=Decimal("80000"))
    start = trade.post("/api/v1/bots/fits/start", json={})
    assert start.status_code == 422 and "minimum notional" in start.json()["error"]["message"], start.text
    assert trade.get("/api/v1/bots/fits").json()["status"] == "created"
