"""Order outcomes by the exchange's own codes: what an order request's failure means for the order.

The connection-status classifier (errors.py) says what a failure means for the key; this one says what
it means for one order, which decides what the executor may do next:

- `filter_failure`: a market rule refused it (tick, lot, minimum amount or notional): not placed;
- `insufficient_balance`: not enough funds or margin: not placed;
- `rejected`: refused for another definite reason (reduce-only with nothing to reduce, post-only that
  would take, a bad parameter, no liquidity): not placed;
- `duplicate_id`: the client order id is already in use: an earlier attempt DID place it: look it up;
- `unknown_order`: the order named (fetch, cancel) does not exist;
- `rate_limited`: the request was throttled: wait, look the order up, then try again;
- `outcome_unknown`: timeout, reset, 5xx or an unreadable answer: the order may or may not exist; only a
  lookup by client order id can tell.

Codes are the venues' own, from their error documents (named beside each table); ccxt's exception
class is only the fallback when the answer carries no code we know. ccxt ids are the keys: spot and
derivatives APIs of one exchange that use different codes have separate tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

from tradewarden.adapters.exchanges.errors import exchange_code

Outcome = Literal[
    "filter_failure",
    "insufficient_balance",
    "rejected",
    "duplicate_id",
    "unknown_order",
    "rate_limited",
    "outcome_unknown",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# Outcomes after which the order certainly does not exist on the exchange.
NOT_PLACED: frozenset[Outcome] = frozenset({"filter_failure", "insufficient_balance", "rejected"})

# Binance Spot "Error codes" (errors.md) and USDⓈ-M Futures "Error Code": -2010 and -1013 share causes
# that the message tells apart (see _BY_MESSAGE).
_BINANCE: dict[str, Outcome] = {
    "-1003": "rate_limited",  # TOO_MANY_REQUESTS
    "-1015": "rate_limited",  # TOO_MANY_ORDERS
    "-1008": "rate_limited",  # server busy, request throttled (not processed)
    "-1006": "outcome_unknown",  # UNEXPECTED_RESP: execution status unknown
    "-1007": "outcome_unknown",  # TIMEOUT: "Send status unknown; execution status unknown"
    "-1013": "filter_failure",  # "Filter failure: PRICE_FILTER|LOT_SIZE|NOTIONAL|..."
    "-1111": "filter_failure",  # BAD_PRECISION
    "-1121": "rejected",  # BAD_SYMBOL
    "-1021": "rejected",  # INVALID_TIMESTAMP: outside recvWindow, refused before processing
    "-1022": "rejected",  # INVALID_SIGNATURE
    "-2014": "rejected",  # BAD_API_KEY_FMT
    "-2015": "rejected",  # REJECTED_MBX_KEY: invalid key, IP or permissions
    "-1102": "rejected",  # MANDATORY_PARAM_EMPTY_OR_MALFORMED
    "-2010": "rejected",  # NEW_ORDER_REJECTED (refined by message)
    "-2011": "unknown_order",  # CANCEL_REJECTED: unknown order sent
    "-2013": "unknown_order",  # NO_SUCH_ORDER
    "-2018": "insufficient_balance",  # futures: BALANCE_NOT_SUFFICIENT
    "-2019": "insufficient_balance",  # futures: MARGIN_NOT_SUFFICIEN
    "-2022": "rejected",  # futures: REDUCE_ONLY_REJECT
    "-4003": "filter_failure",  # futures: QTY_LESS_THAN_ZERO
    "-4005": "filter_failure",  # futures: QTY_GREATER_THAN_MAX_QTY
    "-4014": "filter_failure",  # futures: PRICE_NOT_INCREASED_BY_TICK_SIZE
    "-4164": "filter_failure",  # futures: MIN_NOTIONAL
    "-4116": "duplicate_id",  # futures: DUPLICATED_CLIENT_TRAN_ID
    "-5021": "rejected",  # futures: FOK could not fill
    "-5022": "rejected",  # futures: post-only would take
}
# KuCoin "Error Code" (spot: 200004, 600101, 126044, 400100; futures: 300000, 300003, 300009, 100001)
_KUCOIN: dict[str, Outcome] = {
    "429000": "rate_limited",
    "500000": "outcome_unknown",  # internal error
    "200004": "insufficient_balance",
    "600101": "filter_failure",  # order funds below the minimum
    "126044": "duplicate_id",
    "400100": "rejected",  # parameter error (refined by message: "order not exist", "increment")
    "300003": "insufficient_balance",
    "300009": "rejected",  # no open positions to close (reduce-only)
    "300000": "rejected",  # request parameter illegal (refined by message: duplicated clientOid)
    "100001": "unknown_order",  # error.getOrder.orderNotExist
}
# MEXC spot v3 "Error code" and contract API error codes.
_MEXC: dict[str, Outcome] = {
    "429": "rate_limited",
    "510": "rate_limited",  # excessive frequency
    "30002": "filter_failure",  # below the minimum transaction volume
    "30003": "filter_failure",  # above the maximum transaction volume
    "30087": "filter_failure",  # price beyond the allowed range
    "30004": "insufficient_balance",  # insufficient position
    "30005": "insufficient_balance",  # oversold
    "30010": "rejected",  # no valid trade price
    "30041": "rejected",  # order type cannot be placed (post-only would take)
    "-2011": "unknown_order",
    "-2013": "unknown_order",
    "-1121": "rejected",
    "2005": "insufficient_balance",  # contract: balance insufficient
    "2011": "filter_failure",  # contract: order quantity error
    "2015": "filter_failure",  # contract: price or quantity accuracy error
    "2009": "rejected",  # contract: position does not exist (reduce-only)
    "603": "duplicate_id",  # contract: repeated request (externalOid in use)
    "2040": "unknown_order",  # contract: order does not exist
    "1001": "rejected",  # contract does not exist
    "700002": "rejected",  # signature invalid
    "700003": "rejected",  # timestamp outside recvWindow
    "10072": "rejected",  # invalid access key
}
# OKX v5 "Error Code" (REST: 50xxx public, 51xxx trade); order failures come in each item's sCode.
_OKX: dict[str, Outcome] = {
    "50011": "rate_limited",
    "50061": "rate_limited",  # sub-account order rate limit
    "50001": "outcome_unknown",  # service temporarily unavailable
    "50004": "outcome_unknown",  # endpoint request timeout (order may have been processed)
    "50013": "outcome_unknown",  # system busy
    "50026": "outcome_unknown",  # system error
    "51008": "insufficient_balance",
    "51020": "filter_failure",  # below the minimum order amount
    "51121": "filter_failure",  # not a multiple of the lot size
    "51005": "filter_failure",  # above the maximum amount
    "51000": "rejected",  # parameter error
    "51001": "rejected",  # instrument does not exist
    "51109": "rejected",  # no available offer
    "51169": "rejected",  # no position to reduce
    "51016": "duplicate_id",  # duplicated clOrdId
    "51603": "unknown_order",  # order does not exist
    "51400": "unknown_order",  # cancel failed: order already filled, canceled or does not exist
}
# Bybit v5 "Error Codes" (UTA: 10xxx common, 110xxx derivatives, 170xxx spot).
_BYBIT: dict[str, Outcome] = {
    "10006": "rate_limited",
    "10018": "rate_limited",
    "10000": "outcome_unknown",  # server timeout
    "10016": "outcome_unknown",  # server error
    "10001": "rejected",  # parameter error
    "110007": "insufficient_balance",
    "110094": "filter_failure",  # below the minimum order value
    "110017": "rejected",  # reduce-only rule not satisfied
    "110072": "duplicate_id",  # OrderLinkedID is duplicate
    "110001": "unknown_order",
    "170131": "insufficient_balance",
    "170140": "filter_failure",
    "170134": "filter_failure",
    "170137": "filter_failure",
    "170135": "filter_failure",
    "170141": "duplicate_id",
    "170213": "unknown_order",
    "170121": "rejected",
}
TABLES: dict[str, dict[str, Outcome]] = {
    "binance": _BINANCE,
    "binanceusdm": _BINANCE,
    "kucoin": _KUCOIN,
    "kucoinfutures": _KUCOIN,
    "mexc": _MEXC,
    "okx": _OKX,
    "bybit": _BYBIT,
}
# Codes shared by causes that only the venue's message separates (message fragment, lower case).
_BY_MESSAGE: dict[tuple[str, str], tuple[tuple[str, Outcome], ...]] = {
    ("binance", "-2010"): (
        ("insufficient balance", "insufficient_balance"),
        ("duplicate order", "duplicate_id"),
        ("liquidity", "rejected"),
    ),
    ("kucoin", "400100"): (
        ("order not exist", "unknown_order"),
        ("increment", "filter_failure"),
        ("size", "filter_failure"),
        ("funds", "filter_failure"),
    ),
    ("kucoin", "300000"): (("duplicated", "duplicate_id"),),
    ("okx", "51000"): (("parameter sz", "filter_failure"), ("parameter px", "filter_failure")),
}
_FAMILY = {"binanceusdm": "binance", "kucoinfutures": "kucoin"}


@dataclass(frozen=True)
class OrderOutcome:
    """One failed order request, classified: outcome, the venue's code (text) and our short detail."""

    outcome: Outcome
    code: str | None
    detail: str

    @property
    def not_placed(self) -> bool:
        """True when the order certainly does not exist on the exchange."""
        return self.outcome in NOT_PLACED


def _body(exc: BaseException) -> str | None:
    """ccxt puts "<exchange id> <response body>" in its message; recover the JSON part."""
    text = str(exc)
    start = text.find("{")
    if start < 0:
        return None
    try:
        json.loads(text[start:])
    except ValueError:
        return None
    return text[start:]


def _message(body: str | None) -> str:
    try:
        data: Any = json.loads(body or "")
    except ValueError:
        return ""
    if isinstance(data, dict):
        for item in data.get("data") or [] if isinstance(data.get("data"), list) else []:
            if isinstance(item, dict) and item.get("sMsg"):
                return str(item["sMsg"]).lower()
        for key in ("msg", "retMsg", "message"):
            if isinstance(data.get(key), str):
                return str(data[key]).lower()
    return ""


def _by_exception(exc: BaseException) -> Outcome:
    import ccxt

    # Order matters: ccxt's hierarchy nests these (RequestTimeout is a NetworkError, DDoSProtection too).
    if isinstance(exc, ccxt.DuplicateOrderId):
        return "duplicate_id"
    if isinstance(exc, ccxt.OrderNotFound):
        return "unknown_order"
    if isinstance(exc, ccxt.InsufficientFunds):
        return "insufficient_balance"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return "rate_limited"
    if isinstance(exc, ccxt.InvalidOrder):
        return "filter_failure"
    if isinstance(exc, ccxt.NetworkError | ccxt.BadResponse | ccxt.NullResponse):
        return "outcome_unknown"
    # Refused at the door (parameters, signature, timestamp, key): the order was never processed.
    if isinstance(
        exc,
        ccxt.BadRequest
        | ccxt.BadSymbol
        | ccxt.AuthenticationError
        | ccxt.PermissionDenied
        | ccxt.InvalidNonce,
    ):
        return "rejected"
    return "outcome_unknown"  # anything we cannot read: never assume it was not placed


def classify_order_error(
    exchange_id: str, exc: BaseException, http_status: int | None = None, body: str | None = None
) -> OrderOutcome:
    """Classify a failed order request by the venue's code, then the HTTP status, then ccxt's class."""
    import ccxt

    body = body if body is not None else _body(exc)
    family = _FAMILY.get(exchange_id, exchange_id)
    code = exchange_code(family, body)
    table = TABLES.get(exchange_id, {})
    if code is not None and code in table:
        outcome = table[code]
        message = _message(body)
        for fragment, refined in _BY_MESSAGE.get((family, code), ()):
            if fragment in message:
                outcome = refined
                break
        return OrderOutcome(outcome, code, f"{exchange_id} answered code {code}")
    if isinstance(exc, ccxt.RequestTimeout):
        return OrderOutcome("outcome_unknown", code, "the request timed out: the order may exist")
    if http_status is not None and http_status in (418, 429):
        return OrderOutcome("rate_limited", code, f"HTTP {http_status}: rate limited")
    if http_status is not None and http_status >= 500:
        return OrderOutcome("outcome_unknown", code, f"HTTP {http_status}: the order may exist")
    outcome = _by_exception(exc)
    return OrderOutcome(outcome, code, f"{type(exc).__name__}" + (f", code {code}" if code else ""))
