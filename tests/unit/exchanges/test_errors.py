"""Error classification by each exchange's own code, with HTTP status and ccxt's class only as fallbacks."""

from __future__ import annotations

import json
from typing import Any

import ccxt
import pytest

from tradewarden.adapters.exchanges.errors import (
    CODE_TABLES,
    STATUSES,
    Classified,
    classify,
    clear_last_response,
    exchange_code,
    http_status_and_body,
    install_response_capture,
    last_response,
    refine_with_permissions,
)
from tradewarden.adapters.exchanges.permissions import UNKNOWN, KeyPermissions
from tradewarden.adapters.exchanges.registry import REGISTRY


def j(payload: dict[str, Any]) -> str:
    return json.dumps(payload)


HTML_503 = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"

# (exchange, scenario, http status, body, expected status, expected code). Bodies follow each exchange's
# documented error envelope and code table (source beside each group).
CASES: list[tuple[str, str, int | None, str | None, str, str | None]] = [
    # developers.binance.com spot "Error Codes" ({"code": -1022, "msg": ...})
    (
        "binance",
        "invalid_key",
        401,
        j({"code": -2014, "msg": "API-key format invalid."}),
        "invalid_key",
        "-2014",
    ),
    (
        "binance",
        "bad_signature",
        400,
        j({"code": -1022, "msg": "Signature for this request is not valid."}),
        "invalid_key",
        "-1022",
    ),
    (
        "binance",
        "timestamp",
        400,
        j({"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}),
        "clock_skew",
        "-1021",
    ),
    (
        "binance",
        "ip",
        401,
        j({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}),
        "invalid_key",
        "-2015",
    ),
    (
        "binance",
        "rate_limit",
        429,
        j({"code": -1003, "msg": "Too much request weight used."}),
        "rate_limited",
        "-1003",
    ),
    ("binance", "ip_ban", 418, None, "rate_limited", None),
    ("binance", "5xx", 503, HTML_503, "exchange_unavailable", None),
    # kucoin.com/docs "Errors code" ({"code": "400003", "msg": ...})
    (
        "kucoin",
        "invalid_key",
        401,
        j({"code": "400003", "msg": "KC-API-KEY not exists"}),
        "invalid_key",
        "400003",
    ),
    (
        "kucoin",
        "passphrase",
        401,
        j({"code": "400004", "msg": "Invalid KC-API-PASSPHRASE"}),
        "invalid_key",
        "400004",
    ),
    (
        "kucoin",
        "bad_signature",
        401,
        j({"code": "400005", "msg": "Invalid KC-API-SIGN"}),
        "invalid_key",
        "400005",
    ),
    (
        "kucoin",
        "timestamp",
        401,
        j({"code": "400002", "msg": "Invalid KC-API-TIMESTAMP"}),
        "clock_skew",
        "400002",
    ),
    (
        "kucoin",
        "ip",
        401,
        j({"code": "400006", "msg": "Invalid request ip, the current clientIp is:203.0.113.7"}),
        "ip_not_allowed",
        "400006",
    ),
    (
        "kucoin",
        "permission",
        403,
        j({"code": "400007", "msg": "Access Denied"}),
        "no_trade_permission",
        "400007",
    ),
    (
        "kucoin",
        "rate_limit",
        429,
        j({"code": "429000", "msg": "Too many requests"}),
        "rate_limited",
        "429000",
    ),
    (
        "kucoin",
        "5xx",
        500,
        j({"code": "500000", "msg": "Internal Server Error"}),
        "exchange_unavailable",
        "500000",
    ),
    # mexc.com/api-docs/spot-v3/error-code ({"code": 700002, "msg": ...})
    ("mexc", "invalid_key", 400, j({"code": 10072, "msg": "Api key info invalid"}), "invalid_key", "10072"),
    (
        "mexc",
        "bad_signature",
        400,
        j({"code": 700002, "msg": "Signature for this request is not valid."}),
        "invalid_key",
        "700002",
    ),
    (
        "mexc",
        "timestamp",
        400,
        j({"code": 700003, "msg": "Timestamp for this request is outside of the recvWindow."}),
        "clock_skew",
        "700003",
    ),
    (
        "mexc",
        "ip",
        400,
        j({"code": 700006, "msg": "IP [203.0.113.7] not in the ip white list"}),
        "ip_not_allowed",
        "700006",
    ),
    (
        "mexc",
        "permission",
        400,
        j({"code": 700007, "msg": "No permission to access the endpoint."}),
        "no_trade_permission",
        "700007",
    ),
    ("mexc", "rate_limit", 429, None, "rate_limited", None),
    ("mexc", "5xx", 503, HTML_503, "exchange_unavailable", None),
    ("mexc", "waf", 403, None, "rate_limited", None),
    # okx.com/docs-v5/en "Error Code" ({"code": "50111", "msg": ..., "data": []})
    (
        "okx",
        "invalid_key",
        401,
        j({"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []}),
        "invalid_key",
        "50111",
    ),
    (
        "okx",
        "passphrase",
        401,
        j({"code": "50105", "msg": 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', "data": []}),
        "invalid_key",
        "50105",
    ),
    (
        "okx",
        "bad_signature",
        401,
        j({"code": "50113", "msg": "Invalid Sign", "data": []}),
        "invalid_key",
        "50113",
    ),
    (
        "okx",
        "timestamp",
        401,
        j({"code": "50102", "msg": "Timestamp request expired", "data": []}),
        "clock_skew",
        "50102",
    ),
    (
        "okx",
        "ip",
        401,
        j(
            {
                "code": "50110",
                "msg": "Your IP 203.0.113.7 is not included in your API key's IP whitelist.",
                "data": [],
            }
        ),
        "ip_not_allowed",
        "50110",
    ),
    (
        "okx",
        "permission",
        401,
        j({"code": "50114", "msg": "Invalid Authority", "data": []}),
        "no_trade_permission",
        "50114",
    ),
    (
        "okx",
        "rate_limit",
        429,
        j({"code": "50011", "msg": "Rate limit reached.", "data": []}),
        "rate_limited",
        "50011",
    ),
    (
        "okx",
        "5xx",
        503,
        j({"code": "50001", "msg": "Service temporarily unavailable", "data": []}),
        "exchange_unavailable",
        "50001",
    ),
    # bybit-exchange.github.io/docs/v5/error ({"retCode": 10003, "retMsg": ...})
    (
        "bybit",
        "invalid_key",
        200,
        j({"retCode": 10003, "retMsg": "API key is invalid.", "result": {}}),
        "invalid_key",
        "10003",
    ),
    (
        "bybit",
        "bad_signature",
        200,
        j({"retCode": 10004, "retMsg": "error sign!", "result": {}}),
        "invalid_key",
        "10004",
    ),
    (
        "bybit",
        "timestamp",
        200,
        j(
            {
                "retCode": 10002,
                "retMsg": "invalid request, please check your server timestamp or recv_window param",
                "result": {},
            }
        ),
        "clock_skew",
        "10002",
    ),
    (
        "bybit",
        "ip",
        401,
        j(
            {
                "retCode": 10010,
                "retMsg": "Unmatched IP, please check your API key's bound IP addresses.",
                "result": {},
            }
        ),
        "ip_not_allowed",
        "10010",
    ),
    (
        "bybit",
        "permission",
        200,
        j(
            {
                "retCode": 10005,
                "retMsg": "Permission denied, please check your API key permissions.",
                "result": {},
            }
        ),
        "no_trade_permission",
        "10005",
    ),
    (
        "bybit",
        "rate_limit",
        403,
        j({"retCode": 10006, "retMsg": "Too many visits!", "result": {}}),
        "rate_limited",
        "10006",
    ),
    (
        "bybit",
        "5xx",
        200,
        j({"retCode": 10016, "retMsg": "Internal system error.", "result": {}}),
        "exchange_unavailable",
        "10016",
    ),
    (
        "bybit",
        "expired",
        200,
        j({"retCode": 33004, "retMsg": "Your api key has expired.", "result": {}}),
        "expired",
        "33004",
    ),
    # bitget.com/api-doc/common/error-code ({"code": "40006", "msg": ..., "requestTime": ..., "data": null})
    (
        "bitget",
        "invalid_key",
        400,
        j({"code": "40006", "msg": "Invalid ACCESS_KEY", "requestTime": 1, "data": None}),
        "invalid_key",
        "40006",
    ),
    (
        "bitget",
        "bad_signature",
        400,
        j({"code": "40009", "msg": "sign signature error", "requestTime": 1, "data": None}),
        "invalid_key",
        "40009",
    ),
    (
        "bitget",
        "timestamp",
        400,
        j({"code": "40008", "msg": "Request timestamp expired", "requestTime": 1, "data": None}),
        "clock_skew",
        "40008",
    ),
    (
        "bitget",
        "ip",
        400,
        j({"code": "40018", "msg": "Invalid IP", "requestTime": 1, "data": None}),
        "ip_not_allowed",
        "40018",
    ),
    (
        "bitget",
        "permission",
        400,
        j({"code": "40014", "msg": "Incorrect permissions", "requestTime": 1, "data": None}),
        "no_trade_permission",
        "40014",
    ),
    (
        "bitget",
        "rate_limit",
        429,
        j({"code": "429", "msg": "Too many requests", "requestTime": 1, "data": None}),
        "rate_limited",
        "429",
    ),
    ("bitget", "5xx", 502, HTML_503, "exchange_unavailable", None),
    # Gate API v4 error handling ({"label": "INVALID_KEY", "message": ...})
    (
        "gate",
        "invalid_key",
        401,
        j({"label": "INVALID_KEY", "message": "Invalid key provided"}),
        "invalid_key",
        "INVALID_KEY",
    ),
    (
        "gate",
        "bad_signature",
        401,
        j({"label": "INVALID_SIGNATURE", "message": "Signature mismatch"}),
        "invalid_key",
        "INVALID_SIGNATURE",
    ),
    (
        "gate",
        "timestamp",
        401,
        j({"label": "REQUEST_EXPIRED", "message": "gap between request time and server time exceeds 60s"}),
        "clock_skew",
        "REQUEST_EXPIRED",
    ),
    (
        "gate",
        "ip",
        403,
        j({"label": "IP_FORBIDDEN", "message": "Request IP not in whitelist"}),
        "ip_not_allowed",
        "IP_FORBIDDEN",
    ),
    (
        "gate",
        "permission",
        403,
        j({"label": "READ_ONLY", "message": "API key is read only"}),
        "no_trade_permission",
        "READ_ONLY",
    ),
    (
        "gate",
        "rate_limit",
        429,
        j({"label": "TOO_MANY_REQUESTS", "message": "Request rate limit exceeded"}),
        "rate_limited",
        "TOO_MANY_REQUESTS",
    ),
    (
        "gate",
        "5xx",
        500,
        j({"label": "SERVER_ERROR", "message": "Internal server error"}),
        "exchange_unavailable",
        "SERVER_ERROR",
    ),
    # huobiapi.github.io/docs/spot/v1/en error codes (v1 {"status", "err-code", "err-msg"}; v2 {"code"})
    (
        "htx",
        "invalid_key",
        200,
        j(
            {
                "status": "error",
                "err-code": "api-signature-not-valid",
                "err-msg": "Signature not valid: Incorrect Access key [Access key错误]",
                "data": None,
            }
        ),
        "invalid_key",
        "api-signature-not-valid",
    ),
    ("htx", "bad_signature", 200, j({"code": 1003, "message": "invalid signature"}), "invalid_key", "1003"),
    (
        "htx",
        "timestamp",
        200,
        j(
            {
                "status": "error",
                "err-code": "api-signature-not-valid",
                "err-msg": "Signature not valid: Timestamp expired",
                "data": None,
            }
        ),
        "clock_skew",
        "api-signature-not-valid",
    ),
    (
        "htx",
        "ip",
        200,
        j(
            {
                "status": "error",
                "err-code": "api-signature-not-valid",
                "err-msg": "Signature not valid: Incorrect IP address [IP地址错误]",
                "data": None,
            }
        ),
        "ip_not_allowed",
        "api-signature-not-valid",
    ),
    (
        "htx",
        "rate_limit",
        200,
        j(
            {
                "status": "error",
                "err-code": "base-request-exceed-frequency-limit",
                "err-msg": "Frequency of requests has exceeded the limit",
                "data": None,
            }
        ),
        "rate_limited",
        "base-request-exceed-frequency-limit",
    ),
    ("htx", "5xx", 502, HTML_503, "exchange_unavailable", None),
    # bingx-api.github.io docs error codes ({"code": 100413, "msg": ...})
    ("bingx", "invalid_key", 200, j({"code": 100413, "msg": "Incorrect apiKey"}), "invalid_key", "100413"),
    (
        "bingx",
        "bad_signature",
        200,
        j({"code": 100001, "msg": "Signature verification failed"}),
        "invalid_key",
        "100001",
    ),
    (
        "bingx",
        "timestamp",
        200,
        j({"code": 100421, "msg": "Null timestamp or timestamp mismatch"}),
        "clock_skew",
        "100421",
    ),
    (
        "bingx",
        "ip",
        200,
        j({"code": 100419, "msg": "IP does not match IP whitelist"}),
        "ip_not_allowed",
        "100419",
    ),
    (
        "bingx",
        "permission",
        200,
        j({"code": 100004, "msg": "Permission denied as the API key was created without the permission"}),
        "no_trade_permission",
        "100004",
    ),
    ("bingx", "rate_limit", 429, None, "rate_limited", None),
    (
        "bingx",
        "5xx",
        200,
        j({"code": 100500, "msg": "The current system is busy, please try again later"}),
        "exchange_unavailable",
        "100500",
    ),
    # docs.cdp.coinbase.com Advanced Trade REST errors ({"error", "message", "error_details"})
    ("coinbase", "invalid_key", 401, "Unauthorized\n", "invalid_key", None),
    (
        "coinbase",
        "bad_signature",
        401,
        j({"error": "UNAUTHENTICATED", "message": "invalid signature"}),
        "invalid_key",
        "UNAUTHENTICATED",
    ),
    (
        "coinbase",
        "timestamp",
        401,
        j({"error": "expired_token", "message": "token expired"}),
        "clock_skew",
        "expired_token",
    ),
    (
        "coinbase",
        "permission",
        403,
        j(
            {
                "error": "PERMISSION_DENIED",
                "error_details": "Missing required scopes",
                "message": "Missing required scopes",
            }
        ),
        "no_trade_permission",
        "PERMISSION_DENIED",
    ),
    (
        "coinbase",
        "rate_limit",
        429,
        j({"error": "rate_limit_exceeded", "message": "Too many requests"}),
        "rate_limited",
        "rate_limit_exceeded",
    ),
    (
        "coinbase",
        "5xx",
        500,
        j({"error": "internal_server_error", "message": "Internal error"}),
        "exchange_unavailable",
        "internal_server_error",
    ),
]


@pytest.mark.parametrize(
    ("exchange_id", "scenario", "http_status", "body", "status", "code"),
    CASES,
    ids=[f"{c[0]}-{c[1]}" for c in CASES],
)
def test_classify_documented_errors(
    exchange_id: str, scenario: str, http_status: int | None, body: str | None, status: str, code: str | None
) -> None:
    result = classify(exchange_id, http_status, body)
    assert (result.status, result.code, result.http_status) == (status, code, http_status)
    assert result.detail


@pytest.mark.parametrize("exchange_id", sorted(REGISTRY))
def test_every_exchange_covers_the_core_scenarios(exchange_id: str) -> None:
    scenarios = {c[1] for c in CASES if c[0] == exchange_id}
    assert {"invalid_key", "bad_signature", "timestamp", "rate_limit", "5xx"} <= scenarios
    covered = {c[4] for c in CASES if c[0] == exchange_id}
    assert {"invalid_key", "clock_skew", "rate_limited", "exchange_unavailable"} <= covered


@pytest.mark.parametrize("exchange_id", sorted(CODE_TABLES))
def test_tables_only_use_known_statuses(exchange_id: str) -> None:
    for code, (status, detail) in CODE_TABLES[exchange_id].items():
        assert status in STATUSES and status != "online", code
        assert detail and detail[0].isalpha()


def test_binance_2015_raised_as_ddos_protection_is_still_invalid_key() -> None:
    # ccxt raises -2015 as DDoSProtection once the key has worked before; the code must win over the class.
    body = j({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    exc = ccxt.DDoSProtection("binance " + body)
    assert classify("binance", 401, body, exc).status == "invalid_key"
    # Without the body handed over, it is recovered from ccxt's message.
    result = classify("binance", None, None, exc)
    assert (result.status, result.code) == ("invalid_key", "-2015")


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ccxt.RequestTimeout("binance GET https://api.binance.com/api/v3/account"), "exchange_unavailable"),
        (ccxt.NetworkError("connection reset"), "exchange_unavailable"),
        (ccxt.ExchangeNotAvailable("okx 503"), "exchange_unavailable"),
        (ccxt.OnMaintenance("kucoin maintenance"), "exchange_unavailable"),
        (ccxt.RateLimitExceeded("bybit 429"), "rate_limited"),
        (ccxt.DDoSProtection("binance 418"), "rate_limited"),
        (ccxt.InvalidNonce("mexc time"), "clock_skew"),
        (ccxt.AuthenticationError("gate auth"), "invalid_key"),
        (ccxt.PermissionDenied("bitget denied"), "no_trade_permission"),
        (ccxt.ExchangeError("something"), "exchange_unavailable"),
        (TimeoutError(), "exchange_unavailable"),
    ],
)
def test_ccxt_class_is_the_fallback_without_body(exc: BaseException, status: str) -> None:
    result = classify("binance", None, None, exc)
    assert (result.status, result.code) == (status, None)


def test_code_beats_exception_class() -> None:
    body = j({"retCode": 10010, "retMsg": "Unmatched IP"})
    assert classify("bybit", 200, body, ccxt.RateLimitExceeded("x")).status == "ip_not_allowed"


def test_unknown_code_falls_back_to_http_status() -> None:
    result = classify("okx", 429, j({"code": "59999", "msg": "new code"}))
    assert (result.status, result.code) == ("rate_limited", "59999")


def test_unsupported_exchange_uses_http_and_class() -> None:
    assert classify("kraken", 401, "{}").status == "invalid_key"
    assert classify("kraken", None, None, ccxt.RequestTimeout("x")).status == "exchange_unavailable"
    assert classify("kraken", None, None).status == "exchange_unavailable"


def test_detail_never_echoes_the_venue_message() -> None:
    # A venue message can echo request parameters; the detail is our sentence plus the code only.
    secret_echo = "apiKey=AKIAEXAMPLE&signature=deadbeef&timestamp=1"
    for exchange_id, body in [
        ("binance", j({"code": -1022, "msg": secret_echo})),
        ("binance", j({"code": -9999, "msg": secret_echo})),
        ("kucoin", j({"code": "400005", "msg": secret_echo})),
        ("gate", j({"label": "INVALID_KEY", "message": secret_echo})),
    ]:
        result = classify(exchange_id, 400, body, ccxt.ExchangeError(f"{exchange_id} {body}"))
        assert "AKIAEXAMPLE" not in result.detail and "deadbeef" not in result.detail


@pytest.mark.parametrize(
    ("exchange_id", "body", "code"),
    [
        ("binance", j({"code": -2015, "msg": "x"}), "-2015"),
        ("kucoin", j({"code": "400005", "msg": "x"}), "400005"),
        ("kucoin", j({"code": "200000", "data": {}}), None),
        ("okx", j({"code": "50111", "msg": "x", "data": []}), "50111"),
        ("okx", j({"code": "1", "msg": "", "data": [{"sCode": "50113", "sMsg": "x"}]}), "50113"),
        ("okx", j({"code": "0", "data": []}), None),
        ("bybit", j({"retCode": 10003, "retMsg": "x"}), "10003"),
        ("bybit", j({"retCode": 0, "retMsg": "OK"}), None),
        ("mexc", j({"code": 700002, "msg": "x"}), "700002"),
        ("bitget", j({"code": "40037", "msg": "Apikey does not exist"}), "40037"),
        ("bitget", j({"code": "00000", "data": {}}), None),
        ("gate", j({"label": "INVALID_KEY", "message": "x"}), "INVALID_KEY"),
        (
            "htx",
            j({"status": "error", "err-code": "api-signature-not-valid", "err-msg": "x"}),
            "api-signature-not-valid",
        ),
        ("htx", j({"code": 1003, "message": "invalid signature"}), "1003"),
        ("htx", j({"code": 200, "data": []}), None),
        ("bingx", j({"code": 100001, "msg": "x"}), "100001"),
        ("bingx", j({"code": 0, "data": {}}), None),
        ("coinbase", j({"error": "PERMISSION_DENIED", "message": "x"}), "PERMISSION_DENIED"),
        (
            "coinbase",
            j({"success": False, "error_response": {"error": "INSUFFICIENT_FUND"}}),
            "INSUFFICIENT_FUND",
        ),
        ("binance", "<html>503</html>", None),
        ("binance", None, None),
        ("binance", "[1, 2]", None),
    ],
)
def test_exchange_code(exchange_id: str, body: str | None, code: str | None) -> None:
    assert exchange_code(exchange_id, body) == code


# --- refining a shared code with the permissions already read ----------------------------------------------

SPOT_ONLY = KeyPermissions(True, True, False, False, True, None, None)
NO_TRADE = KeyPermissions(True, False, False, False, True, None, None)
B2015 = classify("binance", 401, j({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}))


def test_2015_with_trading_off_is_no_trade_permission() -> None:
    assert refine_with_permissions("binance", B2015, NO_TRADE).status == "no_trade_permission"


def test_2015_on_futures_with_futures_off_is_no_futures_permission() -> None:
    result = refine_with_permissions("binance", B2015, SPOT_ONLY, needs_futures=True)
    assert (result.status, result.code) == ("no_futures_permission", "-2015")


def test_2015_with_unknown_permissions_stays_invalid_key() -> None:
    assert refine_with_permissions("binance", B2015, UNKNOWN).status == "invalid_key"
    assert refine_with_permissions("binance", B2015, SPOT_ONLY).status == "invalid_key"


def test_permission_error_on_futures_call_becomes_no_futures_permission() -> None:
    bybit = classify("bybit", 200, j({"retCode": 10005, "retMsg": "Permission denied"}))
    assert (
        refine_with_permissions("bybit", bybit, SPOT_ONLY, needs_futures=True).status
        == "no_futures_permission"
    )
    assert refine_with_permissions("bybit", bybit, SPOT_ONLY).status == "no_trade_permission"


def test_htx_shared_code_with_trading_off() -> None:
    htx = classify(
        "htx", 200, j({"status": "error", "err-code": "api-signature-not-valid", "err-msg": "denied"})
    )
    assert refine_with_permissions("htx", htx, NO_TRADE).status == "no_trade_permission"


def test_unambiguous_codes_are_not_refined() -> None:
    clock = classify("binance", 400, j({"code": -1021, "msg": "x"}))
    assert refine_with_permissions("binance", clock, NO_TRADE) == clock


# --- capturing the last HTTP response from an async ccxt client ------------------------------------------


class FakeCcxt:
    """The part of a ccxt client the capture relies on: the per-response on_rest_response hook."""

    def on_rest_response(
        self, code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, rh: Any, rb: Any
    ) -> Any:
        return body


def test_capture_records_status_and_body() -> None:
    client = FakeCcxt()
    install_response_capture(client)
    assert last_response(client) == (None, None)
    out = client.on_rest_response(401, "Unauthorized", "u", "GET", {}, '{"code":-2015}', {}, None)
    assert out == '{"code":-2015}'
    assert last_response(client) == (401, '{"code":-2015}')
    assert http_status_and_body(client) == (401, '{"code":-2015}')
    clear_last_response(client)
    assert last_response(client) == (None, None)


def test_capture_is_idempotent_and_bounded() -> None:
    client = FakeCcxt()
    install_response_capture(client)
    install_response_capture(client)
    client.on_rest_response(200, "OK", "u", "GET", {}, "x" * 100_000, {}, None)
    status, body = last_response(client)
    assert status == 200 and body is not None and len(body) == 4096


def test_capture_on_a_real_ccxt_client() -> None:
    import ccxt.async_support as ccxt_async

    client = ccxt_async.binance()
    install_response_capture(client)
    # The hook ccxt's fetch calls for every response (async_support/base/exchange.py).
    client.on_rest_response(418, "I'm a teapot", "u", "GET", {}, '{"code":-1003}', {}, None)
    assert last_response(client) == (418, '{"code":-1003}')
    assert classify("binance", *last_response(client)).status == "rate_limited"


def test_last_response_without_capture() -> None:
    assert last_response(object()) == (None, None)


def test_classified_is_frozen() -> None:
    result = Classified("online", None, 200, "ok")
    with pytest.raises(AttributeError):
        result.status = "expired"  # type: ignore[misc]
