"""Classify an exchange's error by the exchange's own code, with ccxt's exception class only as a fallback.

ccxt's classes are not enough: it raises Binance -2015 ("Invalid API-key, IP, or permissions") as
DDoSProtection once a key has worked before, which would make a revoked key look retryable. So the venue code
in the body decides first, then the HTTP status, and only then the exception class.

Each table below is written from the exchange's own error documentation (source noted beside it); the
`detail` strings are ours and never carry request parameters, headers or secrets, nor the venue's message
(which may echo parameters): only our sentence and the venue code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from tradewarden.adapters.exchanges.permissions import KeyPermissions
from tradewarden.adapters.exchanges.replies import UnreadableReply

Status = Literal[
    "online",
    "invalid_key",
    "no_trade_permission",
    "no_futures_permission",
    "ip_not_allowed",
    "withdraw_enabled",
    "clock_skew",
    "rate_limited",
    "exchange_unavailable",
    "expired",
    "integrity_error",  # not from the exchange: the stored key does not decrypt (altered or moved)
]
STATUSES: tuple[Status, ...] = get_args(Status)


@dataclass(frozen=True)
class Classified:
    """One error, classified: our status, the venue's own code as text, the HTTP status, a short detail."""

    status: Status
    code: str | None
    http_status: int | None
    detail: str


_Table = Mapping[str, tuple[Status, str]]

# Binance spot/USD-M error codes. Source: developers.binance.com "Error Codes" (spot and derivatives).
_BINANCE: _Table = {
    "-1001": ("exchange_unavailable", "Binance could not process the request (internal error)"),
    "-1002": ("invalid_key", "Binance says this key is not authorised for the request"),
    "-1003": ("rate_limited", "too much request weight used; Binance is limiting this IP"),
    "-1004": ("exchange_unavailable", "Binance is busy"),
    "-1007": ("exchange_unavailable", "Binance timed out waiting for its backend"),
    "-1008": ("exchange_unavailable", "Binance is overloaded"),
    "-1015": ("rate_limited", "too many new orders"),
    "-1021": ("clock_skew", "the request timestamp is outside Binance's receive window"),
    "-1022": ("invalid_key", "the request signature is not valid: check the secret"),
    "-2008": ("invalid_key", "Binance does not know this API key id"),
    "-2014": ("invalid_key", "the API key format is invalid"),
    # One code for three causes: bad/revoked key, IP not trusted, or a permission missing for the call.
    "-2015": (
        "invalid_key",
        "Binance rejected the key: invalid or revoked key, IP not trusted, or permission",
    ),
}

# KuCoin gateway codes. Source: kucoin.com/docs "Errors code" (REST 400xxx, 411100, 429000, 500000).
_KUCOIN: _Table = {
    "400001": ("invalid_key", "authentication headers are missing"),
    "400002": ("clock_skew", "the request timestamp differs from KuCoin's clock by more than 5 seconds"),
    "400003": ("invalid_key", "KuCoin does not know this API key"),
    "400004": ("invalid_key", "the API passphrase is wrong"),
    "400005": ("invalid_key", "the request signature is wrong: check the secret"),
    "400006": ("ip_not_allowed", "this server's IP is not in the key's IP whitelist"),
    "400007": ("no_trade_permission", "the key lacks the permission this request needs"),
    "400008": ("invalid_key", "this API key version is no longer supported; create a new key"),
    "400009": ("invalid_key", "the API key version header is invalid"),
    "400010": ("no_trade_permission", "the account lacks the permission this request needs"),
    "411100": ("invalid_key", "KuCoin has frozen this account"),
    "429000": ("rate_limited", "KuCoin's rate limit was exceeded"),
    "500000": ("exchange_unavailable", "KuCoin internal server error"),
}

# MEXC spot v3 codes. Source: mexc.com/api-docs/spot-v3/error-code (401, 403, 429, 5xx, 602, 7000xx, 10072).
_MEXC: _Table = {
    "401": ("invalid_key", "MEXC refused the key (no authority)"),
    "402": ("expired", "the API key has expired"),
    "403": ("rate_limited", "MEXC's firewall denied access, usually for request frequency"),
    "406": ("ip_not_allowed", "this server's IP is not in the key's whitelist"),
    "429": ("rate_limited", "too many requests"),
    "500": ("exchange_unavailable", "MEXC internal error"),
    "501": ("exchange_unavailable", "MEXC is busy"),
    "503": ("exchange_unavailable", "MEXC service unavailable"),
    "504": ("exchange_unavailable", "MEXC gateway timeout"),
    "510": ("rate_limited", "requests are too frequent"),
    "511": ("no_trade_permission", "the key has no access to this endpoint"),
    "602": ("invalid_key", "signature verification failed: check the secret"),
    "700001": ("invalid_key", "the API key format is invalid"),
    "700002": ("invalid_key", "the request signature is not valid: check the secret"),
    "700003": ("clock_skew", "the request timestamp is outside MEXC's receive window"),
    "700006": ("ip_not_allowed", "this server's IP is not in the key's whitelist"),
    "700007": ("no_trade_permission", "the key has no permission for this endpoint"),
    "10072": ("invalid_key", "MEXC does not know this access key"),
    "10073": ("clock_skew", "the request time is invalid"),
}

# OKX v5 codes. Source: okx.com/docs-v5/en "Error Code" (REST general 500xx and 501xx auth codes).
_OKX: _Table = {
    "50001": ("exchange_unavailable", "OKX service temporarily unavailable"),
    "50004": ("exchange_unavailable", "OKX endpoint timed out"),
    "50005": ("exchange_unavailable", "the OKX API is offline"),
    "50011": ("rate_limited", "OKX rate limit reached"),
    "50013": ("exchange_unavailable", "OKX is busy"),
    "50026": ("exchange_unavailable", "OKX system error"),
    "50027": ("no_trade_permission", "the account is restricted from trading"),
    "50061": ("rate_limited", "sub-account rate limit reached"),
    "50100": ("invalid_key", "OKX has frozen this API key"),
    "50101": ("invalid_key", "the key belongs to another OKX environment (demo vs live)"),
    "50102": ("clock_skew", "the request timestamp has expired"),
    "50103": ("invalid_key", "the API key header is empty"),
    "50104": ("invalid_key", "the passphrase header is empty"),
    "50105": ("invalid_key", "the API passphrase is wrong"),
    "50106": ("invalid_key", "the signature header is empty"),
    "50107": ("invalid_key", "the timestamp header is empty"),
    "50110": ("ip_not_allowed", "this server's IP is not in the key's IP allowlist"),
    "50111": ("invalid_key", "OKX does not know this API key"),
    "50112": ("clock_skew", "the request timestamp is invalid"),
    "50113": ("invalid_key", "the request signature is invalid: check the secret"),
    "50114": ("no_trade_permission", "invalid authorisation: the key lacks the permission for this call"),
    # Reported for a read-only key placing an order (third-party capture; not on OKX's error page).
    "50120": ("no_trade_permission", "the API key does not have permission for this call"),
    # Trading error: the account mode (Spot mode) does not allow derivatives, i.e. no futures trading.
    "51010": ("no_futures_permission", "the account mode does not allow this instrument (futures off)"),
}

# Bybit v5 retCodes. Source: bybit-exchange.github.io/docs/v5/error.
_BYBIT: _Table = {
    "10002": ("clock_skew", "the request time is outside Bybit's receive window"),
    "10003": ("invalid_key", "Bybit does not know this API key (or it is for another environment)"),
    "10004": ("invalid_key", "the request signature does not match: check the secret"),
    "10005": ("no_trade_permission", "permission denied for this API key"),
    "10006": ("rate_limited", "too many requests for this account"),
    "10007": ("invalid_key", "user authentication failed"),
    "10010": ("ip_not_allowed", "this server's IP is not bound to the key"),
    "10016": ("exchange_unavailable", "Bybit internal error or service restarting"),
    "10018": ("rate_limited", "the IP rate limit was exceeded"),
    "33004": ("expired", "the API key has expired"),
}

# Bitget codes. Source: bitget.com/api-doc/common/error-code (400xx signature and permission codes).
_BITGET: _Table = {
    "40001": ("invalid_key", "the API key header is empty"),
    "40002": ("invalid_key", "the secret is empty"),
    "40003": ("invalid_key", "the signature is empty"),
    "40004": ("clock_skew", "the request timestamp has expired"),
    "40005": ("clock_skew", "the request timestamp is invalid"),
    "40006": ("invalid_key", "Bitget does not know this API key"),
    "40008": ("clock_skew", "the request timestamp has expired"),
    "40009": ("invalid_key", "signature error: check the secret"),
    "40010": ("invalid_key", "signature error: check the secret"),
    "40011": ("invalid_key", "the passphrase header is empty"),
    "40012": ("invalid_key", "the API key or passphrase is wrong"),
    "40014": ("no_trade_permission", "the key's permissions do not allow this call"),
    "40018": ("ip_not_allowed", "this server's IP is not bound to the key"),
    "40037": ("invalid_key", "the API key does not exist"),
    "429": ("rate_limited", "too many requests"),
}

# Gate v4 error labels. Source: Gate API v4 docs, "Error handling" label list.
_GATE: _Table = {
    "INVALID_KEY": ("invalid_key", "Gate does not know this API key"),
    "INVALID_CREDENTIALS": ("invalid_key", "the credentials are invalid"),
    "AUTHENTICATION_FAILED": ("invalid_key", "authentication failed"),
    "MISSING_REQUIRED_HEADER": ("invalid_key", "authentication headers are missing"),
    "INVALID_SIGNATURE": ("invalid_key", "the signature is invalid: check the secret"),
    "REQUEST_EXPIRED": ("clock_skew", "the request timestamp is too far from Gate's clock"),
    "IP_FORBIDDEN": ("ip_not_allowed", "this server's IP is not in the key's whitelist"),
    "READ_ONLY": ("no_trade_permission", "the key is read-only"),
    "FORBIDDEN": ("no_trade_permission", "the key is not allowed to make this call"),
    "ACCOUNT_LOCKED": ("invalid_key", "Gate has locked this account"),
    "TOO_MANY_REQUESTS": ("rate_limited", "too many requests"),
    "TOO_FAST": ("rate_limited", "requests are too fast"),
    "SERVER_ERROR": ("exchange_unavailable", "Gate internal error"),
    "INTERNAL": ("exchange_unavailable", "Gate internal error"),
    "TOO_BUSY": ("exchange_unavailable", "Gate is busy"),
}

# HTX err-codes (v1 "err-code" strings, v2 numeric "code"). Source: huobiapi.github.io/docs/spot/v1/en
# "Error Code" sections. HTX puts several causes under api-signature-not-valid and tells them apart only in
# err-msg; _refine_by_message sorts those out.
_HTX: _Table = {
    "api-signature-not-valid": ("invalid_key", "HTX rejected the signature or the access key"),
    "api-signature-check-failed": ("invalid_key", "HTX could not verify the signature"),
    "login-required": ("invalid_key", "HTX did not accept the key"),
    "base-request-exceed-frequency-limit": ("rate_limited", "request frequency over HTX's limit"),
    "rate-too-many-requests": ("rate_limited", "rate limit exceeded"),
    "base-system-error": ("exchange_unavailable", "HTX system error"),
    "1002": ("invalid_key", "unauthorised"),
    "1003": ("invalid_key", "invalid signature: check the secret"),
    "403": ("invalid_key", "incorrect access key"),
}

# BingX codes. Source: bingx-api.github.io/docs "Error codes" (1000xx common codes).
_BINGX: _Table = {
    "100001": ("invalid_key", "signature verification failed: check the secret"),
    "100004": ("no_trade_permission", "permission denied: the key was made without this permission"),
    "100412": ("invalid_key", "the API key is missing or empty"),
    "100413": ("invalid_key", "BingX does not know this API key"),
    "100419": ("ip_not_allowed", "this server's IP does not match the key's IP whitelist"),
    "100410": ("exchange_unavailable", "BingX is busy"),
    "100500": ("exchange_unavailable", "BingX is busy"),
    "100503": ("exchange_unavailable", "BingX service unavailable"),
}

# Coinbase Advanced Trade error strings. Source: docs.cdp.coinbase.com Advanced Trade "REST API errors"
# and "Scopes & permissions" (view / trade / transfer).
_COINBASE: _Table = {
    "authentication_error": ("invalid_key", "Coinbase could not authenticate the key"),
    "unauthorized": ("invalid_key", "Coinbase did not authorise the request"),
    "UNAUTHENTICATED": ("invalid_key", "Coinbase could not authenticate the key"),
    "invalid_token": ("invalid_key", "the request token (JWT) is invalid"),
    "revoked_token": ("invalid_key", "the key has been revoked"),
    "expired_token": ("clock_skew", "the request token had already expired: check this server's clock"),
    "PERMISSION_DENIED": ("no_trade_permission", "the key's scopes do not allow this call"),
    "invalid_scope": ("no_trade_permission", "the key's scopes do not allow this call"),
    "rate_limit_exceeded": ("rate_limited", "rate limit exceeded"),
    "resource_exhausted": ("rate_limited", "rate limit exceeded"),
    "internal_server_error": ("exchange_unavailable", "Coinbase internal error"),
}

CODE_TABLES: Mapping[str, _Table] = {
    "binance": _BINANCE,
    "kucoin": _KUCOIN,
    "mexc": _MEXC,
    "okx": _OKX,
    "bybit": _BYBIT,
    "bitget": _BITGET,
    "gate": _GATE,
    "htx": _HTX,
    "bingx": _BINGX,
    "coinbase": _COINBASE,
}

# Codes one exchange uses for several causes; refine_with_permissions settles them with what the key can do.
AMBIGUOUS_CODES: Mapping[str, frozenset[str]] = {
    "binance": frozenset({"-2015"}),
    "okx": frozenset({"50114"}),
    "htx": frozenset({"api-signature-not-valid"}),
}

# Codes that mean "success" in each envelope: never an error code.
_SUCCESS = frozenset({"0", "200", "200000", "00000"})


def _parse_body(body: str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text or None


def exchange_code(exchange_id: str, body: str | None) -> str | None:
    """The venue's own error code from a JSON error body, as text; None for success or no code."""
    data = _parse_body(body)
    if not isinstance(data, dict):
        return None
    code: str | None = None
    if exchange_id == "bybit":
        code = _text(data.get("retCode", data.get("ret_code")))
    elif exchange_id == "gate":
        code = _text(data.get("label"))
    elif exchange_id == "htx":
        # v1 {"status": "error", "err-code": "..."}; futures {"err_code": 403}; v2 {"code": 1003, "message"}.
        code = _text(data.get("err-code", data.get("err_code", data.get("code"))))
    elif exchange_id == "coinbase":
        code = _text(data.get("error"))
        if code is None and isinstance(data.get("error_response"), dict):
            code = _text(data["error_response"].get("error"))
    elif exchange_id == "okx":
        code = _text(data.get("code"))
        # Batch and order calls answer code "1"/"2" with the real cause in each item's sCode.
        if code in ("1", "2") and isinstance(data.get("data"), list):
            for item in data["data"]:
                s_code = _text(item.get("sCode")) if isinstance(item, dict) else None
                if s_code and s_code != "0":
                    return s_code
    else:
        code = _text(data.get("code"))
    if code is None or code in _SUCCESS:
        return None
    return code


def _message(exchange_id: str, body: str | None) -> str:
    """The venue's message, lower-cased, only to sort out causes sharing one code (never returned)."""
    data = _parse_body(body)
    if not isinstance(data, dict):
        return ""
    for key in ("msg", "retMsg", "message", "err-msg", "err_msg", "error_message"):
        if isinstance(data.get(key), str):
            return str(data[key]).lower()
    return ""


def _refine_by_message(
    exchange_id: str, status: Status, code: str, message: str
) -> tuple[Status, str] | None:
    """Exchanges that share one code between causes say which in the message; use it where it is clear."""
    if not message:
        return None
    if exchange_id == "htx" and code == "api-signature-not-valid":
        if "ip" in message.split() or "ip address" in message or "ip地址" in message:
            return "ip_not_allowed", "HTX rejected this server's IP address"
        if "expired" in message and "key" in message:
            return "expired", "the HTX access key has expired"
        if "expired" in message or "timestamp" in message:
            return "clock_skew", "the request timestamp was rejected by HTX"
    if exchange_id == "bingx" and status != "clock_skew" and "timestamp" in message:
        return "clock_skew", "BingX rejected the request timestamp"
    return None


def _body_from_exception(exc: BaseException | None) -> str | None:
    """ccxt puts "<exchange id> <response body>" in its exception message; recover the JSON part."""
    if exc is None:
        return None
    text = str(exc)
    start = text.find("{")
    if start < 0:
        return None
    candidate = text[start:]
    try:
        json.loads(candidate)
    except ValueError:
        return None
    return candidate


def _http_fallback(exchange_id: str, http_status: int) -> tuple[Status, str] | None:
    if http_status in (418, 429):
        return "rate_limited", f"HTTP {http_status}: the exchange is limiting requests"
    if http_status >= 500:
        return "exchange_unavailable", f"HTTP {http_status}: the exchange is failing or down"
    if http_status == 401:
        return "invalid_key", "HTTP 401: the exchange did not accept the key"
    if http_status == 403:
        if exchange_id in ("binance", "mexc"):
            # Both document a bare 403 as their web application firewall refusing the caller.
            return "rate_limited", "HTTP 403: the exchange's firewall refused the request"
        return "no_trade_permission", "HTTP 403: the exchange refused the request for this key"
    return None


def _exception_fallback(exc: BaseException) -> tuple[Status, str]:
    import ccxt  # lazily: importing ccxt is slow and most classifications never need it

    # Order matters: ccxt nests DDoSProtection, RateLimitExceeded and RequestTimeout under NetworkError.
    if isinstance(exc, ccxt.InvalidNonce):
        return "clock_skew", "the exchange rejected the request time"
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return "rate_limited", "the exchange is limiting requests"
    if isinstance(
        exc, ccxt.OnMaintenance | ccxt.ExchangeNotAvailable | ccxt.RequestTimeout | ccxt.NetworkError
    ):
        return "exchange_unavailable", "the exchange could not be reached or is down"
    if isinstance(exc, ccxt.PermissionDenied):
        return "no_trade_permission", "the exchange refused the call for this key"
    if isinstance(exc, ccxt.AccountSuspended | ccxt.AuthenticationError):
        return "invalid_key", "the exchange did not accept the key"
    if isinstance(exc, TimeoutError | ConnectionError):
        return "exchange_unavailable", "the exchange could not be reached"
    return "exchange_unavailable", "the exchange answered with an error we do not recognise"


def classify(
    exchange_id: str, http_status: int | None, body: str | None, exc: BaseException | None = None
) -> Classified:
    """Turn one failed exchange call into a status: venue code first, then HTTP status, then ccxt's class."""
    if body is None:
        body = _body_from_exception(exc)
    code = exchange_code(exchange_id, body)
    table = CODE_TABLES.get(exchange_id, {})
    if code is not None and code in table:
        status, detail = table[code]
        refined = _refine_by_message(exchange_id, status, code, _message(exchange_id, body))
        if refined is not None:
            status, detail = refined
        return Classified(status, code, http_status, f"{detail} (code {code})")
    if code is not None:
        refined = _refine_by_message(exchange_id, "exchange_unavailable", code, _message(exchange_id, body))
        if refined is not None:
            return Classified(refined[0], code, http_status, f"{refined[1]} (code {code})")
    if isinstance(exc, UnreadableReply):
        # The call "succeeded" with a body that is not the documented shape: the exchange (or something in
        # between) is not answering properly, whatever the HTTP status said.
        suffix = f" (code {code})" if code else ""
        return Classified("exchange_unavailable", code, http_status, exc.detail + suffix)
    if http_status is not None:
        fallback = _http_fallback(exchange_id, http_status)
        if fallback is not None:
            suffix = f" (code {code})" if code else ""
            return Classified(fallback[0], code, http_status, fallback[1] + suffix)
    if exc is not None:
        status, detail = _exception_fallback(exc)
        suffix = f" (code {code})" if code else ""
        return Classified(status, code, http_status, detail + suffix)
    suffix = f" (code {code})" if code else ""
    return Classified(
        "exchange_unavailable", code, http_status, "unrecognised error from the exchange" + suffix
    )


def refine_with_permissions(
    exchange_id: str, result: Classified, permissions: KeyPermissions, *, needs_futures: bool = False
) -> Classified:
    """Settle a code that covers several causes (Binance -2015) using the permissions already read.

    If the permission endpoint answered, the key is valid and this server's IP is accepted, so a shared
    "key, IP or permission" code on a trading call means a permission is missing. A plain permission error
    on a futures call becomes no_futures_permission when the key is known not to trade futures.
    """
    ambiguous = result.code is not None and result.code in AMBIGUOUS_CODES.get(exchange_id, frozenset())
    if not ambiguous and result.status != "no_trade_permission":
        return result
    code = f" (code {result.code})" if result.code else ""
    if needs_futures and permissions.futures_trade is False:
        return replace(
            result, status="no_futures_permission", detail="futures trading is off for this key" + code
        )
    if ambiguous and permissions.spot_trade is False:
        return replace(result, status="no_trade_permission", detail="trading is off for this key" + code)
    return result


# ------------------------------------------------------------------------------ last-response capture

_CAPTURE_ATTR = "_tradewarden_last_response"
_BODY_LIMIT = 4096  # enough for any error envelope; keeps a huge success body out of memory


def install_response_capture(client: Any) -> None:
    """Record (HTTP status, body) of every REST response on this ccxt client instance.

    Wraps the instance's `on_rest_response` hook, which ccxt's async `fetch` calls for every response before
    `handle_errors`, so the status survives even when ccxt raises. Idempotent.
    """
    if getattr(client, _CAPTURE_ATTR + "_installed", False):
        return
    original = client.on_rest_response

    def capture(
        code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, *rest: Any, **kwargs: Any
    ) -> Any:
        result = original(code, reason, url, method, headers, body, *rest, **kwargs)
        text = result if isinstance(result, str) else (body if isinstance(body, str) else None)
        status = int(code) if isinstance(code, int) else None
        setattr(client, _CAPTURE_ATTR, (status, None if text is None else text[:_BODY_LIMIT]))
        return result

    client.on_rest_response = capture
    setattr(client, _CAPTURE_ATTR, (None, None))
    setattr(client, _CAPTURE_ATTR + "_installed", True)


def last_response(client: Any) -> tuple[int | None, str | None]:
    """(HTTP status, body) of the client's last REST response, (None, None) if none was recorded."""
    value = getattr(client, _CAPTURE_ATTR, None)
    if isinstance(value, tuple) and len(value) == 2:
        return value[0], value[1]
    return None, None


def clear_last_response(client: Any) -> None:
    """Forget the recorded response, so the next read reflects only the next call."""
    if hasattr(client, _CAPTURE_ATTR):
        setattr(client, _CAPTURE_ATTR, (None, None))


def http_status_and_body(client: Any) -> tuple[int | None, str | None]:
    """Same as last_response: the HTTP status and body of the client's last REST response."""
    return last_response(client)
