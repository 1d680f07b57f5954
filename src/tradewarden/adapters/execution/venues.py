"""Each exchange's way to send a client order id and to find an order by it (through ccxt's params).

ccxt maps the unified `clientOrderId` param to the venue's field when creating an order: Binance
newClientOrderId, OKX clOrdId, Bybit orderLinkId, KuCoin clientOid, MEXC spot newClientOrderId and
contract externalOid. Looking an order up by it differs:

- `fetch_order`: the venue queries by client id directly (Binance spot and USD-M origClientOrderId,
  OKX clOrdId, KuCoin spot client-order/{clientOid}, KuCoin futures byClientOid, MEXC spot
  origClientOrderId); a missing order is the venue's "unknown order" code;
- `bybit`: /v5/order/realtime with orderLinkId finds the order in any status;
- `scan`: no query by client id is served (MEXC contract): open orders, then the order history.
"""

from __future__ import annotations

from typing import Any

from tradewarden.adapters.exchanges.order_errors import classify_order_error

_INFO_FIELDS = ("externalOid", "clOrdId", "orderLinkId", "clientOid", "newClientOrderId", "clientOrderId")


def client_id_of(order: Any) -> str | None:
    """The client order id of a ccxt order, also where ccxt leaves it only in `info` (MEXC contract
    orders carry it as externalOid, which ccxt does not parse)."""
    if not isinstance(order, dict):
        return None
    if order.get("clientOrderId"):
        return str(order["clientOrderId"])
    info = order.get("info")
    if isinstance(info, dict):
        for name in _INFO_FIELDS:
            if info.get(name):
                return str(info[name])
    return None


def _is_contract(client: Any, symbol: str) -> bool:
    market = client.markets.get(symbol) if client.markets else None
    return bool(market and market.get("contract"))


def lookup_mode(exchange_id: str, contract: bool) -> str:
    """How this exchange (and market kind) finds an order by client order id."""
    if exchange_id == "bybit":
        return "bybit"
    if exchange_id == "mexc" and contract:
        return "scan"
    return "fetch_order"


def create_params(exchange_id: str, client_order_id: str, reduce_only: bool) -> dict[str, Any]:
    """ccxt params of a new order: its client id, and reduce-only where asked."""
    params: dict[str, Any] = {"clientOrderId": client_order_id}
    if reduce_only:
        params["reduceOnly"] = True
    return params


def fetch_params(exchange_id: str) -> dict[str, Any]:
    """Params every fetch_order needs on this exchange."""
    return {"acknowledged": True} if exchange_id == "bybit" else {}


async def find_by_client_id(
    client: Any, exchange_id: str, symbol: str, client_order_id: str
) -> dict[str, Any] | None:
    """The venue's order with this client id (ccxt shape), None when the venue says there is none.

    Any other failure raises: "could not look" must never be read as "not there".
    """
    mode = lookup_mode(exchange_id, _is_contract(client, symbol))
    if mode == "fetch_order":
        try:
            found = await client.fetch_order(
                None, symbol, {"clientOrderId": client_order_id, **fetch_params(exchange_id)}
            )
        except Exception as exc:
            if classify_order_error(exchange_id, exc).outcome == "unknown_order":
                return None
            raise
        return dict(found) if found else None
    if mode == "bybit":
        rows = await client.fetch_open_orders(symbol, None, None, {"orderLinkId": client_order_id})
        for row in rows:
            if client_id_of(row) == client_order_id:
                return dict(row)
        return None
    for fetch in (client.fetch_open_orders, client.fetch_closed_orders, client.fetch_canceled_orders):
        for row in await fetch(symbol):
            if client_id_of(row) == client_order_id:
                return dict(row)
    return None
