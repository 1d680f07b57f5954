"""What an API key may do, read from the exchange's own key-permission endpoint.

`parse_<exchange>` turn one documented response shape into `KeyPermissions`; they are pure and total: any
value at all (wrong types, text, empty, truncated) yields unknowns (None), never a guess and never an
exception. None means "could not tell", False means "the exchange said no". The only I/O is
`fetch_permissions`, which awaits the ccxt implicit method(s) for the exchange's endpoint, lets ccxt's
exceptions through so the caller can classify them (errors.classify), and raises UnreadableReply when the
reply does not say whether the key can withdraw: the connection test then fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewarden.adapters.exchanges.replies import UnreadableReply, require_json, require_object, whole_number


@dataclass(frozen=True)
class KeyPermissions:
    """The permissions of one API key; None wherever the exchange did not say."""

    read: bool | None
    spot_trade: bool | None
    futures_trade: bool | None
    withdraw: bool | None
    ip_restricted: bool | None
    ip_whitelist: tuple[str, ...] | None
    expires_at: datetime | None  # aware UTC: when the key, or its trading right, stops working

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's "permissions" object, plus the IP list and the expiry as ISO 8601."""
        return {
            "read": self.read,
            "spot_trade": self.spot_trade,
            "futures_trade": self.futures_trade,
            "withdraw": self.withdraw,
            "ip_restricted": self.ip_restricted,
            "ip_whitelist": None if self.ip_whitelist is None else list(self.ip_whitelist),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
        }

    @property
    def known(self) -> bool:
        """True when the exchange told us at least whether the key can withdraw or trade."""
        return any(v is not None for v in (self.spot_trade, self.futures_trade, self.withdraw))


UNKNOWN = KeyPermissions(None, None, None, None, None, None, None)


# ---------------------------------------------------------------------------------------------- helpers


def _as_bool(value: Any) -> bool | None:
    """A JSON boolean, "true"/"false" string or 0/1 as bool; anything else is unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _split(value: Any) -> tuple[str, ...]:
    """A comma/semicolon separated string or a list of strings, as stripped non-empty items."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = value.replace(";", ",").split(",")
    elif isinstance(value, list | tuple):
        items = (item for item in value if isinstance(item, str | int) and not isinstance(item, bool))
    else:
        return ()
    return tuple(s for s in (str(item).strip() for item in items) if s)


def _ips(value: Any, wildcard: str | None = None) -> tuple[bool | None, tuple[str, ...] | None]:
    """(ip_restricted, ip_whitelist) from an IP list field; missing field means unknown."""
    if value is None:
        return None, None
    ips = _split(value)
    if wildcard is not None and wildcard in ips:
        return False, ()
    return bool(ips), ips


def _from_ms(value: Any) -> datetime | None:
    """Epoch milliseconds (number or digit string) as aware UTC; 0, out of range or junk means none."""
    ms = whole_number(value)
    if ms is None or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_iso(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as aware UTC (naive values are taken as UTC); junk means none."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: a date at the edge of the calendar, moved to UTC
        return None


def _days_from(now: datetime, days: Any) -> datetime | None:
    """`now` plus a number of days, or None when `days` is not a non-negative number in range."""
    if isinstance(days, bool) or not isinstance(days, int | float):
        return None
    try:
        return now + timedelta(days=days) if days >= 0 else None
    except (OverflowError, ValueError):  # inf, NaN, or past the year 9999
        return None


def _data(response: Any, ok_codes: tuple[Any, ...]) -> Any:
    """The `data` of a {code, data} envelope when the code says success; the response itself if unwrapped."""
    if isinstance(response, dict) and "code" in response:
        if response.get("code") not in ok_codes:
            return None
        return response.get("data")
    return response


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------- parsers


def parse_binance(response: Any) -> KeyPermissions:
    """Binance GET /sapi/v1/account/apiRestrictions: one object of booleans."""
    # Source: developers.binance.com/docs/wallet/account/api-key-permission. Fields: ipRestrict,
    # enableReading, enableSpotAndMarginTrading, enableFutures, enableWithdrawals, and
    # tradingAuthorityExpirationTime (ms; when spot & margin trading switches off on a key without trusted
    # IPs). The IP list itself is a separate endpoint (.../apiRestrictions/ipRestriction), so it stays None.
    if not isinstance(response, dict):
        return UNKNOWN
    return KeyPermissions(
        read=_as_bool(response.get("enableReading")),
        spot_trade=_as_bool(response.get("enableSpotAndMarginTrading")),
        futures_trade=_as_bool(response.get("enableFutures")),
        withdraw=_as_bool(response.get("enableWithdrawals")),
        ip_restricted=_as_bool(response.get("ipRestrict")),
        ip_whitelist=None,
        expires_at=_from_ms(response.get("tradingAuthorityExpirationTime")),
    )


def parse_binance_testnet(response: Any) -> KeyPermissions:
    """Binance Spot Testnet GET /api/v3/account: the testnet has no /sapi (so no apiRestrictions) and no
    wallet, so nothing can be withdrawn there; `canTrade` says whether the key may trade."""
    if not isinstance(response, dict):
        return UNKNOWN
    return KeyPermissions(
        read=True,  # the signed account read itself succeeded
        spot_trade=_as_bool(response.get("canTrade")),
        futures_trade=None,
        withdraw=False,
        ip_restricted=None,
        ip_whitelist=None,
        expires_at=None,
    )


def parse_kucoin(response: Any) -> KeyPermissions:
    """KuCoin GET /api/v1/user/api-key: {"code": "200000", "data": {permission, ipWhitelist, ...}}."""
    # Source: kucoin.com/docs, Account > "Get Apikey Info". `permission` is a comma list such as
    # "General,Spot,Futures"; `ipWhitelist` a comma list, absent or empty when the key has none.
    # KuCoin's key guide says "Transfer" moves funds out, deposits and withdrawals included, so it counts as
    # withdraw, as does "Withdrawal"; "InnerTransfer" stays between the user's own accounts and does not.
    data = _data(response, ("200000",))
    if not isinstance(data, dict) or "permission" not in data:
        return UNKNOWN
    perms = {p.lower() for p in _split(data.get("permission"))}
    restricted, ips = _ips(data.get("ipWhitelist", ""))
    return KeyPermissions(
        read="general" in perms,
        spot_trade="spot" in perms or "trade" in perms,  # "Trade" is the pre-v3 name of spot trading
        futures_trade="futures" in perms,
        withdraw=bool(perms & {"withdrawal", "withdraw", "transfer"}),
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=None,
    )


def parse_mexc(response: Any, now: datetime | None = None) -> KeyPermissions:
    """MEXC GET /api/v3/apiKeyInfo?accessKey=...: permissions and ipWhiteList as comma strings."""
    # Source: mexc.com/api-docs/spot-v3/spot-account-trade/query-api-key-info. Response: note, accessKey,
    # createTime, permissions ("SPOT_ACCOUNT_READ,SPOT_DEAL_WRITE,..."), remainingValidity (days left for a
    # key with no linked IP), ipWhiteList ("" when none), status ("VALID"). Permission names are MEXC's own:
    # SPOT_ACCOUNT_READ/WRITE, SPOT_DEAL_READ/WRITE, CONTRACT_ACCOUNT_*, CONTRACT_DEAL_*,
    # SPOT_TRANSFER_*, SPOT_WITHDRAW_READ/WRITE (wallet endpoints need SPOT_WITHDRAW_WRITE to withdraw).
    if not isinstance(response, dict) or "permissions" not in response:
        return UNKNOWN
    now = now or _now()
    perms = {p.upper() for p in _split(response.get("permissions"))}
    restricted, ips = _ips(response.get("ipWhiteList", ""))
    expires_at: datetime | None = None
    status = response.get("status")
    if isinstance(status, str) and status.upper() != "VALID":
        expires_at = now  # the exchange says the key is no longer valid
    elif not restricted:
        expires_at = _days_from(now, response.get("remainingValidity"))
    return KeyPermissions(
        read="SPOT_ACCOUNT_READ" in perms,
        spot_trade="SPOT_DEAL_WRITE" in perms,
        futures_trade="CONTRACT_DEAL_WRITE" in perms,
        withdraw="SPOT_WITHDRAW_WRITE" in perms,
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=expires_at,
    )


def parse_okx(response: Any) -> KeyPermissions:
    """OKX GET /api/v5/account/config: {"code": "0", "data": [{perm, ip, ...}]}."""
    # Source: okx.com/docs-v5/en "Get account configuration". `perm` is a comma list of read_only, trade,
    # withdraw; `ip` the bound addresses, comma separated, "" when none. OKX's "trade" covers spot and
    # derivatives alike.
    data = _data(response, ("0", 0))
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict) or "perm" not in data:
        return UNKNOWN
    perms = {p.lower() for p in _split(data.get("perm"))}
    restricted, ips = _ips(data.get("ip", ""))
    trade = "trade" in perms
    return KeyPermissions(
        read="read_only" in perms or trade,
        spot_trade=trade,
        futures_trade=trade,
        withdraw="withdraw" in perms,
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=None,
    )


def parse_bybit(response: Any) -> KeyPermissions:
    """Bybit GET /v5/user/query-api: {"retCode": 0, "result": {readOnly, permissions, ips, expiredAt}}."""
    # Source: bybit-exchange.github.io/docs/v5/user/apikey-info. readOnly 0 = read and write, 1 = read only;
    # permissions is an object of lists: Spot ["SpotTrade"], ContractTrade ["Order", "Position"],
    # Derivatives ["DerivativesTrade"], Wallet [..., "Withdraw"]; ips ["*"] means no IP bound; expiredAt is
    # set only for keys with no IP bound (or after a password change). Any key may call this endpoint.
    data: Any = response
    if isinstance(response, dict) and "retCode" in response:
        data = response.get("result") if response.get("retCode") in (0, "0") else None
    if not isinstance(data, dict) or "permissions" not in data:
        return UNKNOWN
    perms = data.get("permissions") or {}
    if not isinstance(perms, dict):
        return UNKNOWN

    def has(group: str, name: str) -> bool:
        values = perms.get(group) or []
        return isinstance(values, list) and name in values

    writable = _as_bool(data.get("readOnly")) is False
    restricted, ips = _ips(data.get("ips", []), wildcard="*")
    return KeyPermissions(
        read=True,  # every Bybit key can read; readOnly only says whether it can also write
        spot_trade=writable and has("Spot", "SpotTrade"),
        futures_trade=writable and (has("ContractTrade", "Order") or has("Derivatives", "DerivativesTrade")),
        withdraw=has("Wallet", "Withdraw"),
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=_from_iso(data.get("expiredAt")),
    )


def parse_bitget(response: Any) -> KeyPermissions:
    """Bitget GET /api/v2/spot/account/info: {"code": "00000", "data": {ips, authorities}}."""
    # Source: bitget.com/api-doc/spot/account/Get-Account-Info. `ips` is the IP whitelist as a string;
    # `authorities` lists codes: read-only ones end in "r" (stor spot, coor futures orders, wtor transfer...),
    # read-write ones in "w" (stow spot trade, coow futures orders, cpow futures holdings, wwow withdrawal).
    # The docs' sample still shows the older words "trade" and "readonly", so those are read too.
    data = _data(response, ("00000",))
    if not isinstance(data, dict) or "authorities" not in data:
        return UNKNOWN
    auth = {a.lower() for a in _split(data.get("authorities"))}
    restricted, ips = _ips(data.get("ips", ""))
    legacy_trade = "trade" in auth
    return KeyPermissions(
        read=bool(auth),
        spot_trade="stow" in auth or legacy_trade,
        futures_trade="coow" in auth or legacy_trade,
        withdraw="wwow" in auth or "withdraw" in auth,
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=None,
    )


def parse_gate(response: Any) -> KeyPermissions:
    """Gate: {"detail": GET /account/detail, "main_keys": GET /account/main_keys, "key": the API key}."""
    # Source: Gate API v4 "Get account detail" (ip_whitelist list, currency_pairs, key.mode) and "Query all
    # main account key information" (per key: key, perms [{name, read_only}], ip_whitelist, state 1 normal,
    # 2 locked, 3 frozen). Perm names: wallet, spot (spot/margin), futures (perpetual), delivery, earn,
    # options. account/detail alone says nothing about permissions, so they stay unknown unless the key is
    # found in main_keys. Gate's wallet write access covers transfers and withdrawals, so it counts as
    # withdraw.
    if not isinstance(response, dict):
        return UNKNOWN
    detail = response.get("detail", response)
    restricted, ips = _ips(detail.get("ip_whitelist") if isinstance(detail, dict) else None)
    entry = None
    keys = response.get("main_keys")
    if isinstance(keys, list):
        entry = next((k for k in keys if isinstance(k, dict) and k.get("key") == response.get("key")), None)
    if entry is None:
        return KeyPermissions(None, None, None, None, restricted, ips, None)
    if restricted is None:
        restricted, ips = _ips(entry.get("ip_whitelist"))
    writable: dict[str, bool] = {}
    perms = entry.get("perms")
    for perm in perms if isinstance(perms, list) else []:
        if isinstance(perm, dict) and isinstance(perm.get("name"), str):
            writable[perm["name"]] = _as_bool(perm.get("read_only")) is False
    return KeyPermissions(
        read=bool(writable),
        spot_trade=writable.get("spot", False),
        futures_trade=writable.get("futures", False) or writable.get("delivery", False),
        withdraw=writable.get("wallet", False) or writable.get("withdraw", False),
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=None,
    )


def parse_htx(response: Any, now: datetime | None = None) -> KeyPermissions:
    """HTX GET /v2/user/api-key?uid=&accessKey=: {"code": 200, "data": [{permission, ipAddresses, ...}]}."""
    # Source: huobiapi.github.io/docs/spot/v1/en "Query API key information of parent and sub user".
    # permission: comma list of readOnly, trade, withdraw; ipAddresses: comma list, "" when none (such keys
    # expire after 90 days); validDays: days left, -1 when it never expires; status: normal or expired.
    data = _data(response, (200, "200"))
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict) or "permission" not in data:
        return UNKNOWN
    now = now or _now()
    perms = {p.lower() for p in _split(data.get("permission"))}
    restricted, ips = _ips(data.get("ipAddresses", ""))
    expires_at: datetime | None = None
    if str(data.get("status", "normal")).lower() == "expired":
        expires_at = now
    elif isinstance(data.get("validDays"), int):
        expires_at = _days_from(now, data.get("validDays"))
    trade = "trade" in perms
    return KeyPermissions(
        read="readonly" in perms or trade,
        spot_trade=trade,
        futures_trade=trade,
        withdraw="withdraw" in perms,
        ip_restricted=restricted,
        ip_whitelist=ips,
        expires_at=expires_at,
    )


# BingX permission codes, from its sub-account API key endpoints (the same numbers the key page uses).
_BINGX_CODES = {
    1: "spot",
    2: "read",
    3: "futures",
    4: "universal_transfer",
    5: "withdraw",
    7: "inner_transfer",
}


def parse_bingx(response: Any) -> KeyPermissions:
    """BingX GET /openApi/v1/account/apiPermissions: {"code": 0, "data": {...}}, in either published form."""
    # Source: bingx-api.github.io docs, "Query API KEY Permissions". Two shapes are in circulation: the key
    # record {apiKey, note, permissions: [1, 2, 3], ipAddresses: [...]} with the numeric codes above, and
    # booleans named like Binance's (ipRestrict, enableReading, enableSpotAndMarginTrading, enableFutures,
    # enableWithdrawals). Both are read; anything else stays unknown.
    data = _data(response, (0, "0"))
    if not isinstance(data, dict):
        return UNKNOWN
    if isinstance(data.get("permissions"), list):
        codes = set()
        for code in data["permissions"]:
            number = whole_number(code)
            if number is not None:
                codes.add(_BINGX_CODES.get(number, "other"))
        restricted, ips = _ips(data.get("ipAddresses", []))
        return KeyPermissions(
            read="read" in codes,
            spot_trade="spot" in codes,
            futures_trade="futures" in codes,
            withdraw="withdraw" in codes,
            ip_restricted=restricted,
            ip_whitelist=ips,
            expires_at=None,
        )
    if "enableReading" in data or "enableWithdrawals" in data:
        return KeyPermissions(
            read=_as_bool(data.get("enableReading")),
            spot_trade=_as_bool(data.get("enableSpotAndMarginTrading")),
            futures_trade=_as_bool(data.get("enableFutures")),
            withdraw=_as_bool(data.get("enableWithdrawals")),
            ip_restricted=_as_bool(data.get("ipRestrict")),
            ip_whitelist=None,
            expires_at=None,
        )
    return UNKNOWN


def parse_coinbase(response: Any) -> KeyPermissions:
    """Coinbase GET /api/v3/brokerage/key_permissions: {can_view, can_trade, can_transfer, portfolio_*}."""
    # Source: docs.cdp.coinbase.com Advanced Trade "Get API Key Permissions". "transfer" is the scope that
    # sends funds out of the account, so it is the withdraw permission. The response says nothing about an
    # IP allowlist, so that stays unknown. One "trade" scope covers every product of the key's portfolio.
    if not isinstance(response, dict) or "can_trade" not in response:
        return UNKNOWN
    trade = _as_bool(response.get("can_trade"))
    return KeyPermissions(
        read=_as_bool(response.get("can_view")),
        spot_trade=trade,
        futures_trade=trade,
        withdraw=_as_bool(response.get("can_transfer")),
        ip_restricted=None,
        ip_whitelist=None,
        expires_at=None,
    )


PARSERS: Mapping[str, Callable[[Any], KeyPermissions]] = {
    "binance": parse_binance,
    "kucoin": parse_kucoin,
    "mexc": parse_mexc,
    "okx": parse_okx,
    "bybit": parse_bybit,
    "bitget": parse_bitget,
    "gate": parse_gate,
    "htx": parse_htx,
    "bingx": parse_bingx,
    "coinbase": parse_coinbase,
}

# The ccxt implicit methods fetch_permissions calls, in order, per exchange (checked against ccxt 4.5.90).
PERMISSION_METHODS: Mapping[str, tuple[str, ...]] = {
    "binance": ("sapi_get_account_apirestrictions",),
    "kucoin": ("private_get_user_api_key",),
    "mexc": ("spot_private_get_apikeyinfo",),
    "okx": ("private_get_account_config",),
    "bybit": ("private_get_v5_user_query_api",),
    "bitget": ("private_spot_get_v2_spot_account_info",),
    "gate": ("private_account_get_detail", "private_account_get_main_keys"),
    "htx": ("v2private_get_user_uid", "v2private_get_user_api_key"),
    "bingx": ("account_v1_private_get_account_apipermissions",),
    "coinbase": ("v3_private_get_brokerage_key_permissions",),
}


def parse_permissions(exchange_id: str, response: Any) -> KeyPermissions:
    """Parse a key-permission response of `exchange_id`; UNKNOWN for exchanges with no parser."""
    parser = PARSERS.get(exchange_id)
    return UNKNOWN if parser is None else parser(response)


async def fetch_permissions(exchange_id: str, client: Any) -> KeyPermissions:
    """Read the key's permissions through the exchange's endpoint on an async ccxt client.

    Use the spot client (binanceusdm and kucoinfutures carry the same methods and reach the same host).
    ccxt's exceptions propagate so the caller can classify them; exchanges with no endpoint give UNKNOWN
    without a request. A reply that does not say whether the key can withdraw raises UnreadableReply.
    """
    methods = PERMISSION_METHODS.get(exchange_id)
    if not methods:
        return UNKNOWN
    result = await _read(exchange_id, client, methods)
    if result.withdraw is None:
        raise UnreadableReply("it does not say whether the key can withdraw")
    return result


async def _read(exchange_id: str, client: Any, methods: tuple[str, ...]) -> KeyPermissions:
    """The parsed permissions from the exchange's endpoint(s); replies that are not JSON raise."""
    if exchange_id == "binance" and getattr(client, "isSandboxModeEnabled", False):
        return parse_binance_testnet(require_json(await client.private_get_account()))
    if exchange_id == "mexc":
        # MEXC wants the key being asked about as a parameter.
        reply = await client.spot_private_get_apikeyinfo({"accessKey": client.apiKey})
        return parse_mexc(require_json(reply))
    if exchange_id == "htx":
        # The key endpoint needs the account's uid and the access key; both come from the client itself.
        uid = require_object(await client.v2private_get_user_uid()).get("data")
        if uid is None or isinstance(uid, dict | list | bool):
            raise UnreadableReply("it does not hold the account's uid")
        reply = await client.v2private_get_user_api_key({"uid": uid, "accessKey": client.apiKey})
        return parse_htx(require_json(reply))
    if exchange_id == "gate":
        import ccxt  # lazily, as catalog.py does: importing ccxt is slow and parsing never needs it

        detail = require_json(await client.private_account_get_detail())
        main_keys: Any = None
        try:
            main_keys = await client.private_account_get_main_keys()
        except ccxt.BaseError:  # a sub-account key may not list main keys; the IP part still stands
            main_keys = None
        return parse_gate({"detail": detail, "main_keys": main_keys, "key": client.apiKey})
    return parse_permissions(exchange_id, require_json(await getattr(client, methods[0])()))
