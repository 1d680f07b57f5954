"""The few direct calls the connection test makes, per exchange: ccxt implicit methods, no load_markets.

Unified methods such as fetch_balance load every market first (Binance: four requests before the
balance), so the test calls the endpoints themselves and stays within five upstream requests. Every reply
must be JSON, and the server time its documented field: anything else raises UnreadableReply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tradewarden.adapters.exchanges.replies import UnreadableReply, require_json, whole_number


@dataclass(frozen=True)
class Call:
    """One ccxt implicit method with fixed parameters."""

    method: str
    params: Mapping[str, Any] = field(default_factory=dict)

    async def __call__(self, client: Any) -> Any:
        """Invoke the method on `client`; a reply that is not JSON raises UnreadableReply."""
        return require_json(await getattr(client, self.method)(dict(self.params)))


def _time_at(*path: str | int) -> Callable[[Any], int]:
    """A reader of the server time at `path` (keys and list indexes) in a reply; UnreadableReply if absent."""

    def read(reply: Any) -> int:
        value = reply
        for step in path:
            if isinstance(step, int):
                value = value[step] if isinstance(value, list) and len(value) > step else None
            else:
                value = value.get(step) if isinstance(value, dict) else None
        ms = whole_number(value)
        if ms is None or ms <= 0:
            raise UnreadableReply("it does not hold the server time")
        return ms

    return read


@dataclass(frozen=True)
class Probes:
    """What the test calls on one exchange: server time, a signed read, the market checks."""

    time: Call
    server_ms: Callable[[Any], int]  # the server time in ms, or UnreadableReply
    balance: Call
    spot_market: Call
    futures_account: Call | None = None


BINANCE_SPOT = Probes(
    time=Call("public_get_time"),
    server_ms=_time_at("serverTime"),
    balance=Call("private_get_account", {"omitZeroBalances": "true"}),
    spot_market=Call("public_get_ticker_bookticker", {"symbol": "BTCUSDT"}),
    futures_account=None,
)
BINANCE_USDM = Probes(
    time=Call("fapipublic_get_time"),
    server_ms=_time_at("serverTime"),
    balance=Call("fapiprivatev2_get_balance"),
    spot_market=Call("fapipublic_get_ticker_bookticker", {"symbol": "BTCUSDT"}),
    futures_account=Call("fapiprivatev2_get_balance"),
)
KUCOIN_SPOT = Probes(
    time=Call("public_get_timestamp"),
    server_ms=_time_at("data"),
    balance=Call("private_get_accounts"),
    spot_market=Call("public_get_market_orderbook_level1", {"symbol": "BTC-USDT"}),
)
KUCOIN_FUTURES = Probes(
    time=Call("futurespublic_get_timestamp"),
    server_ms=_time_at("data"),
    balance=Call("futuresprivate_get_account_overview", {"currency": "USDT"}),
    spot_market=Call("futurespublic_get_ticker", {"symbol": "XBTUSDTM"}),
    futures_account=Call("futuresprivate_get_account_overview", {"currency": "USDT"}),
)
MEXC = Probes(
    time=Call("spot_public_get_time"),
    server_ms=_time_at("serverTime"),
    balance=Call("spot_private_get_account"),
    spot_market=Call("spot_public_get_ticker_bookticker", {"symbol": "BTCUSDT"}),
    futures_account=Call("contract_private_get_account_assets"),
)
OKX = Probes(
    time=Call("public_get_public_time"),
    server_ms=_time_at("data", 0, "ts"),
    balance=Call("private_get_account_balance"),
    spot_market=Call("public_get_market_ticker", {"instId": "BTC-USDT"}),
    futures_account=Call("private_get_account_positions", {"instType": "SWAP"}),
)
BYBIT = Probes(
    time=Call("public_get_v5_market_time"),
    server_ms=_time_at("time"),
    balance=Call("private_get_v5_account_wallet_balance", {"accountType": "UNIFIED"}),
    spot_market=Call("public_get_v5_market_tickers", {"category": "spot", "symbol": "BTCUSDT"}),
    futures_account=Call("private_get_v5_position_list", {"category": "linear", "settleCoin": "USDT"}),
)

# Keyed by ccxt id: the id already says which market's API a client speaks.
PROBES: Mapping[str, Probes] = {
    "binance": BINANCE_SPOT,
    "binanceusdm": BINANCE_USDM,
    "kucoin": KUCOIN_SPOT,
    "kucoinfutures": KUCOIN_FUTURES,
    "mexc": MEXC,
    "okx": OKX,
    "bybit": BYBIT,
}


def probes_for(ccxt_id: str) -> Probes | None:
    """The direct calls for a ccxt id, or None where the test falls back to ccxt's unified methods."""
    return PROBES.get(ccxt_id)
