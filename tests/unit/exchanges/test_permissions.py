"""Key-permission parsers on responses shaped as each exchange documents them, and the ccxt calls made."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from tradewarden.adapters.exchanges import permissions as perms
from tradewarden.adapters.exchanges.permissions import (
    PERMISSION_METHODS,
    UNKNOWN,
    KeyPermissions,
    fetch_permissions,
    parse_gate,
    parse_permissions,
)
from tradewarden.adapters.exchanges.registry import REGISTRY
from tradewarden.adapters.exchanges.replies import UnreadableReply

IP = "203.0.113.7"  # documentation address (RFC 5737)
KEY = "test-access-key"

# (read, spot_trade, futures_trade, withdraw, ip_restricted)
HEALTHY = (True, True, True, False, True)
WITHDRAW = (True, True, True, True, True)
READ_ONLY = (True, False, False, False, False)

# --- Recorded shapes, one per documented response. Values are made up; field names and envelopes follow
# --- the source cited above each block.

# developers.binance.com/docs/wallet/account/api-key-permission
BINANCE = {
    "ipRestrict": True,
    "createTime": 1698645219000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": True,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": True,
    "enableSpotAndMarginTrading": True,
    "enablePortfolioMarginTrading": False,
}
# kucoin.com/docs Account > Get Apikey Info (GET /api/v1/user/api-key)
KUCOIN = {
    "code": "200000",
    "data": {
        "remark": "bot",
        "apiKey": KEY,
        "apiVersion": 3,
        "permission": "General,Spot,Futures",
        "ipWhitelist": IP,
        "isMaster": True,
        "createdAt": 1729821494000,
        "uid": 226383154,
    },
}
# mexc.com/api-docs/spot-v3/spot-account-trade/query-api-key-info (GET /api/v3/apiKeyInfo)
MEXC = {
    "note": "bot",
    "accessKey": KEY,
    "createTime": "2026-09-14T18:53:36.000+00:00",
    "permissions": "SPOT_ACCOUNT_READ,SPOT_DEAL_READ,SPOT_DEAL_WRITE,CONTRACT_DEAL_WRITE",
    "ipWhiteList": IP,
    "status": "VALID",
}
# okx.com/docs-v5/en Get account configuration (GET /api/v5/account/config)
OKX = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "uid": "44705892343619584",
            "mainUid": "44705892343619584",
            "acctLv": "2",
            "posMode": "net_mode",
            "autoLoan": False,
            "label": "bot",
            "perm": "read_only,trade",
            "ip": IP,
            "level": "Lv1",
        }
    ],
}
# bybit-exchange.github.io/docs/v5/user/apikey-info (GET /v5/user/query-api)
BYBIT = {
    "retCode": 0,
    "retMsg": "",
    "result": {
        "id": "13770661",
        "note": "bot",
        "apiKey": KEY,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": ["AccountTransfer", "SubMemberTransfer"],
            "Options": [],
            "Derivatives": ["DerivativesTrade"],
            "Exchange": [],
            "NFT": [],
        },
        "ips": [IP],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": "2023-12-01T00:00:00Z",
        "uta": 1,
        "userID": 24600000,
        "isMaster": True,
        "parentUid": "0",
    },
    "retExtInfo": {},
    "time": 1701417600000,
}
# bitget.com/api-doc/spot/account/Get-Account-Info (GET /api/v2/spot/account/info)
BITGET_AUTHORITIES = ["stor", "stow", "coor", "coow", "cpor", "cpow"]
BITGET: dict[str, Any] = {
    "code": "00000",
    "msg": "success",
    "requestTime": 1695808949356,
    "data": {
        "userId": "1",
        "inviterId": "2",
        "ips": IP,
        "authorities": BITGET_AUTHORITIES,
        "parentId": 1,
        "traderType": "not_trader",
        "channelCode": "",
        "channel": "",
        "regisTime": "1246566789345",
    },
}
# Gate API v4: GET /account/detail and GET /account/main_keys, combined by fetch_permissions
GATE = {
    "detail": {
        "user_id": 1667201533,
        "ip_whitelist": [IP],
        "currency_pairs": [],
        "key": {"mode": 1},
        "tier": 0,
        "copy_trading_role": 0,
    },
    "main_keys": [
        {
            "state": 1,
            "mode": 1,
            "name": "other",
            "currency_pairs": [],
            "user_id": 1,
            "ip_whitelist": [],
            "perms": [{"name": "wallet", "read_only": False}],
            "key": "another-key",
        },
        {
            "state": 1,
            "mode": 1,
            "name": "bot",
            "currency_pairs": [],
            "user_id": 1,
            "ip_whitelist": [IP],
            "perms": [
                {"name": "spot", "read_only": False},
                {"name": "futures", "read_only": False},
                {"name": "wallet", "read_only": True},
            ],
            "key": KEY,
        },
    ],
    "key": KEY,
}
# huobiapi.github.io/docs/spot/v1/en GET /v2/user/api-key
HTX = {
    "code": 200,
    "message": "success",
    "data": [
        {
            "accessKey": KEY,
            "note": "bot",
            "permission": "readOnly,trade",
            "ipAddresses": IP,
            "validDays": -1,
            "status": "normal",
            "createTime": 1591348751000,
            "updateTime": 1591348751000,
        }
    ],
}
# bingx-api.github.io docs, Query API KEY Permissions (GET /openApi/v1/account/apiPermissions)
BINGX = {
    "code": 0,
    "msg": "",
    "data": {"apiKey": KEY, "note": "bot", "permissions": [1, 2, 3], "ipAddresses": [IP]},
}
# docs.cdp.coinbase.com Advanced Trade, Get API Key Permissions (GET /api/v3/brokerage/key_permissions)
COINBASE = {
    "can_view": True,
    "can_trade": True,
    "can_transfer": False,
    "portfolio_uuid": "8c1c6a3d-1b1e-4b8f-9a4d-6f0f8a7a5c11",
    "portfolio_type": "DEFAULT",
}


def _with(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def _many(base: dict[str, Any], *changes: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
    out = base
    for path, value in changes:
        out = _with(out, path, value)
    return out


CASES = [
    # Binance
    ("binance", BINANCE, HEALTHY),
    ("binance", _with(BINANCE, ("enableWithdrawals",), True), WITHDRAW),
    (
        "binance",
        _many(
            BINANCE,
            (("enableSpotAndMarginTrading",), False),
            (("enableFutures",), False),
            (("ipRestrict",), False),
        ),
        READ_ONLY,
    ),
    # KuCoin
    ("kucoin", KUCOIN, HEALTHY),
    ("kucoin", _with(KUCOIN, ("data", "permission"), "General,Spot,Futures,Withdrawal"), WITHDRAW),
    ("kucoin", _many(KUCOIN, (("data", "permission"), "General"), (("data", "ipWhitelist"), "")), READ_ONLY),
    # MEXC
    ("mexc", MEXC, HEALTHY),
    ("mexc", _with(MEXC, ("permissions",), MEXC["permissions"] + ",SPOT_WITHDRAW_WRITE"), WITHDRAW),
    (
        "mexc",
        _many(MEXC, (("permissions",), "SPOT_ACCOUNT_READ,SPOT_DEAL_READ"), (("ipWhiteList",), "")),
        READ_ONLY,
    ),
    # OKX
    ("okx", OKX, HEALTHY),
    ("okx", _with(OKX, ("data", 0, "perm"), "read_only,trade,withdraw"), WITHDRAW),
    ("okx", _many(OKX, (("data", 0, "perm"), "read_only"), (("data", 0, "ip"), "")), READ_ONLY),
    # Bybit
    ("bybit", BYBIT, HEALTHY),
    ("bybit", _with(BYBIT, ("result", "permissions", "Wallet"), ["AccountTransfer", "Withdraw"]), WITHDRAW),
    (
        "bybit",
        _many(
            BYBIT,
            (("result", "readOnly"), 1),
            (("result", "permissions", "Spot"), []),
            (("result", "permissions", "ContractTrade"), []),
            (("result", "permissions", "Derivatives"), []),
            (("result", "ips"), ["*"]),
        ),
        READ_ONLY,
    ),
    # Bitget
    ("bitget", BITGET, HEALTHY),
    ("bitget", _with(BITGET, ("data", "authorities"), [*BITGET_AUTHORITIES, "wwow"]), WITHDRAW),
    ("bitget", _many(BITGET, (("data", "authorities"), ["stor", "coor"]), (("data", "ips"), "")), READ_ONLY),
    # Gate
    ("gate", GATE, HEALTHY),
    ("gate", _with(GATE, ("main_keys", 1, "perms", 2, "read_only"), False), WITHDRAW),
    (
        "gate",
        _many(
            GATE,
            (
                ("main_keys", 1, "perms"),
                [{"name": "spot", "read_only": True}, {"name": "wallet", "read_only": True}],
            ),
            (("detail", "ip_whitelist"), []),
        ),
        READ_ONLY,
    ),
    # HTX
    ("htx", HTX, HEALTHY),
    ("htx", _with(HTX, ("data", 0, "permission"), "readOnly,trade,withdraw"), WITHDRAW),
    ("htx", _many(HTX, (("data", 0, "permission"), "readOnly"), (("data", 0, "ipAddresses"), "")), READ_ONLY),
    # BingX
    ("bingx", BINGX, HEALTHY),
    ("bingx", _with(BINGX, ("data", "permissions"), [1, 2, 3, 5]), WITHDRAW),
    ("bingx", _many(BINGX, (("data", "permissions"), [2]), (("data", "ipAddresses"), [])), READ_ONLY),
    # Coinbase reports no IP allowlist: ip_restricted stays None.
    ("coinbase", COINBASE, (True, True, True, False, None)),
    ("coinbase", _with(COINBASE, ("can_transfer",), True), (True, True, True, True, None)),
    ("coinbase", _with(COINBASE, ("can_trade",), False), (True, False, False, False, None)),
]


def _summary(p: KeyPermissions) -> tuple[bool | None, ...]:
    return (p.read, p.spot_trade, p.futures_trade, p.withdraw, p.ip_restricted)


@pytest.mark.parametrize(
    ("exchange_id", "response", "expected"),
    CASES,
    ids=[f"{c[0]}-{('healthy', 'withdraw', 'read_only')[i % 3]}" for i, c in enumerate(CASES)],
)
def test_parse_documented_shapes(exchange_id: str, response: Any, expected: tuple[bool | None, ...]) -> None:
    assert _summary(parse_permissions(exchange_id, response)) == expected


def test_every_exchange_has_three_cases() -> None:
    assert {c[0] for c in CASES} == set(REGISTRY)
    assert all(sum(1 for c in CASES if c[0] == i) == 3 for i in REGISTRY)


@pytest.mark.parametrize(
    ("exchange_id", "response", "ips"),
    [
        ("kucoin", KUCOIN, (IP,)),
        ("okx", _with(OKX, ("data", 0, "ip"), f"{IP},198.51.100.2"), (IP, "198.51.100.2")),
        ("bybit", BYBIT, (IP,)),
        ("bybit", _with(BYBIT, ("result", "ips"), ["*"]), ()),
        ("mexc", MEXC, (IP,)),
        ("bitget", _with(BITGET, ("data", "ips"), ""), ()),
        ("gate", GATE, (IP,)),
        ("htx", HTX, (IP,)),
        ("bingx", BINGX, (IP,)),
        ("binance", BINANCE, None),  # Binance's endpoint reports only the flag, not the list
        ("coinbase", COINBASE, None),
    ],
)
def test_ip_whitelist(exchange_id: str, response: Any, ips: tuple[str, ...] | None) -> None:
    assert parse_permissions(exchange_id, response).ip_whitelist == ips


def test_binance_trading_expiry_is_aware_utc() -> None:
    p = parse_permissions("binance", _with(BINANCE, ("tradingAuthorityExpirationTime",), 1700000000000))
    assert p.expires_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert (
        parse_permissions("binance", _with(BINANCE, ("tradingAuthorityExpirationTime",), 0)).expires_at
        is None
    )


def test_bybit_expiry_for_key_without_ip() -> None:
    response = _many(BYBIT, (("result", "ips"), ["*"]), (("result", "expiredAt"), "2024-03-01T00:00:00Z"))
    assert parse_permissions("bybit", response).expires_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_mexc_remaining_validity_and_status() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    open_key = _many(MEXC, (("ipWhiteList",), ""), (("remainingValidity",), 82))
    assert perms.parse_mexc(open_key, now=now).expires_at == now + timedelta(days=82)
    assert perms.parse_mexc(MEXC, now=now).expires_at is None  # IP-bound keys do not lapse
    assert perms.parse_mexc(_with(MEXC, ("status",), "INVALID"), now=now).expires_at == now


def test_htx_valid_days_and_expired_status() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert perms.parse_htx(_with(HTX, ("data", 0, "validDays"), 30), now=now).expires_at == now + timedelta(
        30
    )
    assert perms.parse_htx(HTX, now=now).expires_at is None
    assert perms.parse_htx(_with(HTX, ("data", 0, "status"), "expired"), now=now).expires_at == now


def test_gate_without_main_keys_knows_only_the_ip() -> None:
    p = parse_permissions("gate", {"detail": GATE["detail"], "main_keys": None, "key": KEY})
    assert _summary(p) == (None, None, None, None, True)


def test_gate_key_missing_from_main_keys_is_unknown_permissions() -> None:
    p = parse_permissions("gate", _with(GATE, ("key",), "not-listed"))
    assert (p.spot_trade, p.withdraw) == (None, None)


def test_bitget_legacy_authority_words() -> None:
    p = parse_permissions("bitget", _with(BITGET, ("data", "authorities"), ["trade", "readonly"]))
    assert _summary(p) == (True, True, True, False, True)


def test_bingx_boolean_shape() -> None:
    data = {"ipRestrict": False, "enableReading": True, "enableSpotAndMarginTrading": True,
            "enableFutures": False, "enableWithdrawals": True}  # fmt: skip
    assert _summary(parse_permissions("bingx", {"code": 0, "data": data})) == (True, True, False, True, False)


def test_kucoin_transfer_counts_as_withdraw() -> None:
    # KuCoin's own key guide: "Transfer" moves funds out, withdrawals included.
    p = parse_permissions("kucoin", _with(KUCOIN, ("data", "permission"), "General,Spot,Transfer"))
    assert p.withdraw is True


@pytest.mark.parametrize(
    ("exchange_id", "error_response"),
    [
        ("kucoin", {"code": "400003", "msg": "KC-API-KEY not exists"}),
        ("okx", {"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []}),
        ("bybit", {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}}),
        ("bitget", {"code": "40006", "msg": "Invalid ACCESS_KEY", "data": None}),
        ("htx", {"code": 1002, "message": "unauthorized"}),
        ("bingx", {"code": 100413, "msg": "Incorrect apiKey"}),
        ("binance", ["not", "an", "object"]),
        ("mexc", {"code": 700002, "msg": "Signature for this request is not valid."}),
        ("coinbase", {"error": "PERMISSION_DENIED", "message": "Missing required scopes"}),
        ("gate", "not json"),
    ],
)
def test_error_envelopes_parse_as_unknown(exchange_id: str, error_response: Any) -> None:
    assert parse_permissions(exchange_id, error_response) == UNKNOWN


def test_unsupported_exchange_is_unknown() -> None:
    assert parse_permissions("kraken", BINANCE) == UNKNOWN


def test_to_json_has_design_keys_and_iso_expiry() -> None:
    p = parse_permissions("binance", _with(BINANCE, ("tradingAuthorityExpirationTime",), 1700000000000))
    assert p.to_json() == {
        "read": True,
        "spot_trade": True,
        "futures_trade": True,
        "withdraw": False,
        "ip_restricted": True,
        "ip_whitelist": None,
        "expires_at": "2023-11-14T22:13:20+00:00",
    }
    assert UNKNOWN.to_json() == dict.fromkeys(p.to_json())
    assert parse_permissions("okx", OKX).to_json()["ip_whitelist"] == [IP]


def test_unknown_is_all_none() -> None:
    assert not UNKNOWN.known
    assert all(v is None for v in UNKNOWN.to_json().values())


# --- ccxt implicit methods ------------------------------------------------------------------------------


def _clients_for(exchange_id: str) -> list[str]:
    info = REGISTRY[exchange_id]
    return sorted(set(info.ccxt_ids.values()))


@pytest.mark.parametrize(
    ("ccxt_id", "method"),
    [(c, m) for e, ms in PERMISSION_METHODS.items() for c in _clients_for(e) for m in ms],
)
def test_implicit_methods_exist_in_ccxt(ccxt_id: str, method: str) -> None:
    # The async class is what the product uses; the sync one must agree (same generated API).
    assert hasattr(getattr(ccxt_async, ccxt_id)(), method)
    assert hasattr(getattr(ccxt, ccxt_id)(), method)


def test_every_exchange_has_permission_methods() -> None:
    assert set(PERMISSION_METHODS) == set(REGISTRY) == set(perms.PARSERS)


class FakeClient:
    """Stands in for an async ccxt client: answers the implicit methods and records the calls."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.apiKey = KEY
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any] | None]] = []

    def __getattr__(self, name: str) -> Any:
        if name not in self.answers:
            raise AttributeError(name)

        async def call(params: dict[str, Any] | None = None) -> Any:
            self.calls.append((name, params))
            answer = self.answers[name]
            if isinstance(answer, BaseException):
                raise answer
            return answer

        return call


SINGLE = {
    "binance": BINANCE,
    "kucoin": KUCOIN,
    "okx": OKX,
    "bybit": BYBIT,
    "bitget": BITGET,
    "bingx": BINGX,
    "coinbase": COINBASE,
}


@pytest.mark.parametrize("exchange_id", sorted(SINGLE))
async def test_fetch_calls_the_documented_endpoint(exchange_id: str) -> None:
    method = PERMISSION_METHODS[exchange_id][0]
    client = FakeClient({method: SINGLE[exchange_id]})
    result = await fetch_permissions(exchange_id, client)
    assert client.calls == [(method, None)]
    assert _summary(result) == _summary(parse_permissions(exchange_id, SINGLE[exchange_id]))


async def test_fetch_mexc_asks_about_its_own_key() -> None:
    client = FakeClient({"spot_private_get_apikeyinfo": MEXC})
    assert _summary(await fetch_permissions("mexc", client)) == HEALTHY
    assert client.calls == [("spot_private_get_apikeyinfo", {"accessKey": KEY})]


async def test_fetch_htx_looks_up_uid_then_key() -> None:
    client = FakeClient(
        {"v2private_get_user_uid": {"code": 200, "data": 63628520}, "v2private_get_user_api_key": HTX}
    )
    assert _summary(await fetch_permissions("htx", client)) == HEALTHY
    assert client.calls == [
        ("v2private_get_user_uid", None),
        ("v2private_get_user_api_key", {"uid": 63628520, "accessKey": KEY}),
    ]


async def test_fetch_gate_combines_detail_and_main_keys() -> None:
    client = FakeClient(
        {"private_account_get_detail": GATE["detail"], "private_account_get_main_keys": GATE["main_keys"]}
    )
    assert _summary(await fetch_permissions("gate", client)) == HEALTHY


async def test_fetch_gate_without_main_keys_fails_closed() -> None:
    # A sub-account key may not list main keys: the IP part parses, but withdraw stays unknown, and an
    # exchange with a permission endpoint that cannot say whether the key withdraws must fail the read.
    client = FakeClient(
        {
            "private_account_get_detail": GATE["detail"],
            "private_account_get_main_keys": ccxt.PermissionDenied("x"),
        }
    )
    parsed = parse_gate({"detail": GATE["detail"], "main_keys": None, "key": KEY})
    assert _summary(parsed) == (None, None, None, None, True)
    with pytest.raises(UnreadableReply, match="withdraw"):
        await fetch_permissions("gate", client)


async def test_fetch_lets_ccxt_errors_through() -> None:
    client = FakeClient({"sapi_get_account_apirestrictions": ccxt.AuthenticationError("binance {}")})
    with pytest.raises(ccxt.AuthenticationError):
        await fetch_permissions("binance", client)


async def test_fetch_unsupported_exchange_is_unknown_without_calls() -> None:
    client = FakeClient({})
    assert await fetch_permissions("kraken", client) == UNKNOWN
    assert client.calls == []
