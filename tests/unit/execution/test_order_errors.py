"""Order outcomes by each venue's own code (bodies shaped as the venues send them), then fallbacks."""

from __future__ import annotations

import json

import ccxt
import pytest

from tradewarden.adapters.exchanges.order_errors import NOT_PLACED, OUTCOMES, TABLES, classify_order_error


def exc(exchange_id: str, body: dict[str, object], cls: type[Exception] = ccxt.ExchangeError) -> Exception:
    """A ccxt exception as ccxt raises it: "<id> <body>"."""
    return cls(f"{exchange_id} {json.dumps(body)}")


CASES = [
    # Binance spot (the -2010 family told apart by message) and USD-M futures
    ("binance", {"code": -1013, "msg": "Filter failure: NOTIONAL"}, "filter_failure"),
    (
        "binance",
        {"code": -2010, "msg": "Account has insufficient balance for requested action."},
        "insufficient_balance",
    ),
    ("binance", {"code": -2010, "msg": "Duplicate order sent."}, "duplicate_id"),
    ("binance", {"code": -2013, "msg": "Order does not exist."}, "unknown_order"),
    ("binance", {"code": -1003, "msg": "Too many requests"}, "rate_limited"),
    (
        "binance",
        {"code": -1007, "msg": "Timeout waiting for response from backend server."},
        "outcome_unknown",
    ),
    ("binanceusdm", {"code": -4164, "msg": "Order's notional must be no smaller than 100"}, "filter_failure"),
    ("binanceusdm", {"code": -2019, "msg": "Margin is insufficient."}, "insufficient_balance"),
    ("binanceusdm", {"code": -4116, "msg": "ClientOrderId is duplicated."}, "duplicate_id"),
    ("binanceusdm", {"code": -2022, "msg": "ReduceOnly Order is rejected."}, "rejected"),
    # KuCoin spot and futures (codes as strings, HTTP 200 bodies)
    ("kucoin", {"code": "200004", "msg": "Balance insufficient!"}, "insufficient_balance"),
    ("kucoin", {"code": "600101", "msg": "The order funds should more then 0.1 USDT."}, "filter_failure"),
    ("kucoin", {"code": "126044", "msg": "clientOid duplicate"}, "duplicate_id"),
    ("kucoin", {"code": "400100", "msg": "order not exist."}, "unknown_order"),
    ("kucoin", {"code": "400100", "msg": "Order size increment invalid."}, "filter_failure"),
    ("kucoin", {"code": "429000", "msg": "Too Many Requests"}, "rate_limited"),
    ("kucoinfutures", {"code": "300003", "msg": "Balance not enough"}, "insufficient_balance"),
    ("kucoinfutures", {"code": "300000", "msg": "The clientOid is duplicated."}, "duplicate_id"),
    ("kucoinfutures", {"code": "300009", "msg": "No open positions to close."}, "rejected"),
    ("kucoinfutures", {"code": "100001", "msg": "error.getOrder.orderNotExist"}, "unknown_order"),
    # MEXC spot and contract
    (
        "mexc",
        {"code": 30002, "msg": "The minimum transaction volume cannot be less than:1USDT"},
        "filter_failure",
    ),
    ("mexc", {"code": 30004, "msg": "Insufficient position"}, "insufficient_balance"),
    ("mexc", {"code": -2013, "msg": "Order does not exist."}, "unknown_order"),
    ("mexc", {"code": 2005, "msg": "Balance insufficient", "success": False}, "insufficient_balance"),
    ("mexc", {"code": 603, "msg": "Repeated requests", "success": False}, "duplicate_id"),
    ("mexc", {"code": 700003, "msg": "Timestamp for this request is outside of the recvWindow."}, "rejected"),
    # OKX: the cause is in the item's sCode
    (
        "okx",
        {"code": "1", "msg": "", "data": [{"sCode": "51008", "sMsg": "Insufficient balance."}]},
        "insufficient_balance",
    ),
    (
        "okx",
        {"code": "1", "msg": "", "data": [{"sCode": "51016", "sMsg": "Duplicated clOrdId"}]},
        "duplicate_id",
    ),
    (
        "okx",
        {"code": "1", "msg": "", "data": [{"sCode": "51020", "sMsg": "minimum order amount"}]},
        "filter_failure",
    ),
    ("okx", {"code": "51603", "msg": "Order does not exist", "data": []}, "unknown_order"),
    ("okx", {"code": "50011", "msg": "Too Many Requests", "data": []}, "rate_limited"),
    ("okx", {"code": "50026", "msg": "System error. Try again later.", "data": []}, "outcome_unknown"),
    # Bybit (retCode): spot 170xxx, derivatives 110xxx
    ("bybit", {"retCode": 170131, "retMsg": "Insufficient balance."}, "insufficient_balance"),
    ("bybit", {"retCode": 170140, "retMsg": "Order value exceeded lower limit."}, "filter_failure"),
    ("bybit", {"retCode": 110072, "retMsg": "OrderLinkedID is duplicate"}, "duplicate_id"),
    ("bybit", {"retCode": 110001, "retMsg": "order not exists or too late to cancel"}, "unknown_order"),
    ("bybit", {"retCode": 10006, "retMsg": "Too many visits!"}, "rate_limited"),
    ("bybit", {"retCode": 10016, "retMsg": "Server error"}, "outcome_unknown"),
]


@pytest.mark.parametrize(("exchange_id", "body", "expected"), CASES)
def test_venue_code_decides(exchange_id: str, body: dict[str, object], expected: str) -> None:
    # a misleading ccxt class must not change the answer: the code decides
    got = classify_order_error(exchange_id, exc(exchange_id, body, ccxt.NetworkError))
    assert got.outcome == expected, got
    assert got.code is not None and got.code in json.dumps(body)


def test_every_venue_has_each_outcome_it_can_produce() -> None:
    for exchange_id, table in TABLES.items():
        outcomes = set(table.values())
        assert {"filter_failure", "insufficient_balance", "rate_limited"} <= outcomes, exchange_id
        assert outcomes <= set(OUTCOMES)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ccxt.RequestTimeout("binance GET timed out"), "outcome_unknown"),
        (ccxt.NetworkError("binance reset by peer"), "outcome_unknown"),
        (ccxt.ExchangeNotAvailable("binance 503 simulated 503"), "outcome_unknown"),
        (ccxt.BadResponse("binance {broken"), "outcome_unknown"),
        (ccxt.InsufficientFunds("binance no funds"), "insufficient_balance"),
        (ccxt.InvalidOrder("amount must be greater than minimum amount precision"), "filter_failure"),
        (ccxt.OrderNotFound("binance gone"), "unknown_order"),
        (ccxt.DuplicateOrderId("binance dup"), "duplicate_id"),
        (ccxt.DDoSProtection("binance slow down"), "rate_limited"),
        (ccxt.AuthenticationError("binance bad key"), "rejected"),
        (RuntimeError("anything else"), "outcome_unknown"),
    ],
)
def test_fallback_by_exception_never_assumes_not_placed(error: Exception, expected: str) -> None:
    got = classify_order_error("binance", error)
    assert got.outcome == expected
    if expected == "outcome_unknown":
        assert not got.not_placed


def test_http_status_without_code() -> None:
    assert (
        classify_order_error("okx", ccxt.ExchangeError("okx"), http_status=502).outcome == "outcome_unknown"
    )
    assert classify_order_error("okx", ccxt.ExchangeError("okx"), http_status=429).outcome == "rate_limited"
    assert {"filter_failure", "insufficient_balance", "rejected"} == NOT_PLACED
