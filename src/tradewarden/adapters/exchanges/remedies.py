"""Messages and remedies for a person: what the connection test found and what to do, in the exchange's words.

Every remedy names the exchange's own setting (ExchangeInfo.setting_names) so the user can find the box to
tick without guessing. Pure text, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tradewarden.adapters.exchanges.errors import STATUSES, Status
from tradewarden.adapters.exchanges.registry import SETTING_KEYS, ExchangeInfo, Guide, get_exchange

WARNINGS = ("ip_unrestricted", "permissions_unknown")


def _names(info: ExchangeInfo) -> tuple[str, str, str, str, str, str]:
    s = info.setting_names
    return (
        s["read"],
        s["spot_trade"],
        s["futures_trade"],
        s["withdraw"],
        s["ip_whitelist"],
        s["api_management"],
    )


def _online(info: ExchangeInfo) -> tuple[str, str]:
    _, _, _, withdraw, _, _ = _names(info)
    return (
        f"{info.name} accepted the key: it can read the account and trade, and withdrawals are off.",
        f"Nothing to do. Keep '{withdraw}' switched off for as long as bots use this key.",
    )


def _invalid_key(info: ExchangeInfo) -> tuple[str, str]:
    read, _, _, _, ip, mgmt = _names(info)
    message = f"{info.name} did not accept the API key."
    remedy = (
        f"Open {info.name} > {mgmt} and check the key still exists and is enabled, then copy the key and "
        "secret again (no spaces at either end)"
    )
    if "password" in info.credentials:
        remedy += ", and the passphrase you chose when creating it"
    remedy += f". The key needs '{read}'. If it was deleted, create a new one and run `connections rotate`."
    if info.id == "binance":
        # Binance answers -2015 for a bad key, an untrusted IP and a missing permission alike.
        message = f"{info.name} rejected the key: it is invalid or revoked, this server's IP is not trusted, "
        message += "or the key lacks a permission."
        remedy += f" Also check '{ip}' lists this server's address."
    return message, remedy


def _no_trade(info: ExchangeInfo) -> tuple[str, str]:
    _, spot, _, _, _, mgmt = _names(info)
    return (
        f"The key can read your {info.name} account but is not allowed to trade.",
        f"In {info.name} > {mgmt}, edit the key and switch on '{spot}', save, then run the test again.",
    )


def _no_futures(info: ExchangeInfo) -> tuple[str, str]:
    _, _, futures, _, _, mgmt = _names(info)
    remedy = (
        f"In {info.name} > {mgmt}, edit the key and switch on '{futures}', save, then run the test again."
    )
    if info.id == "binance":
        remedy += " Binance only offers this box once the futures account is open; older keys need replacing."
    return (
        f"The key cannot trade futures on {info.name}, and this connection is set up for futures.",
        remedy,
    )


def _ip_not_allowed(info: ExchangeInfo) -> tuple[str, str]:
    _, _, _, _, ip, mgmt = _names(info)
    return (
        f"{info.name} refused the request because this server's IP address is not on the key's whitelist.",
        f"In {info.name} > {mgmt}, edit the key and add this server's public IP address under '{ip}'. If the "
        "server's address changes often, give it a fixed outbound address first.",
    )


def _withdraw_enabled(info: ExchangeInfo) -> tuple[str, str]:
    _, _, _, withdraw, _, mgmt = _names(info)
    return (
        f"This {info.name} key can withdraw funds, so TradeWarden refuses it for bots: the connection is "
        "refused until withdrawals are switched off.",
        f"In {info.name} > {mgmt}, edit the key and switch off '{withdraw}' (or create a new key without "
        "it), then run the test again. A bot never needs to withdraw.",
    )


def _clock_skew(info: ExchangeInfo) -> tuple[str, str]:
    return (
        f"{info.name} rejected the request time: this server's clock is too far from the exchange's.",
        "Synchronise the server clock (turn on NTP, e.g. `timedatectl set-ntp true`) and test again.",
    )


def _rate_limited(info: ExchangeInfo) -> tuple[str, str]:
    return (
        f"{info.name} is limiting requests from this server for now.",
        "Wait a minute and run the test again. If it keeps happening, stop other programs using the same "
        "key or IP address.",
    )


def _unavailable(info: ExchangeInfo) -> tuple[str, str]:
    return (
        f"{info.name} could not be reached or answered with a server error.",
        f"Nothing is wrong with the key as far as we can tell. Check {info.name}'s status page or your "
        "network, and run the test again later.",
    )


def _integrity(info: ExchangeInfo) -> tuple[str, str]:
    return integrity(None, info)


def integrity(name: str | None, info: ExchangeInfo) -> tuple[str, str]:
    """(message, remedy) for a connection whose sealed key no longer decrypts (tampered or moved)."""
    who = name if name is not None else "this connection"
    command = f'connections rotate "{name}"' if name is not None else "connections rotate NAME"
    return (
        f"The stored key for {who} cannot be decrypted: it was altered or moved.",
        f"Rotate the key ({command}) with a key from {info.name}; the stored one cannot be recovered. "
        "Check who else can write to TradeWarden's database.",
    )


def unverified(info: ExchangeInfo) -> tuple[str, str]:
    """(message, remedy) when the exchange has a permission endpoint but the permission read failed."""
    _, _, _, withdraw, _, mgmt = _names(info)
    return (
        f"TradeWarden could not verify this key's permissions on {info.name}, so it cannot confirm that "
        f"'{withdraw}' is off: the connection is not Online. The test will be retried.",
        "Nothing to change yet: the health monitor retries the test, or run `tradewarden connections test` "
        f"again later. If it keeps failing, check {info.name}'s status page and, in {info.name} > {mgmt}, "
        f"that '{withdraw}' is off.",
    )


def _expired(info: ExchangeInfo) -> tuple[str, str]:
    _, _, _, _, ip, mgmt = _names(info)
    return (
        f"The {info.name} API key has expired.",
        f"Create a new key in {info.name} > {mgmt}, set '{ip}' to this server's address so it does not lapse "
        "again, then run `connections rotate` with the new key.",
    )


_EXPLAIN: dict[Status, Callable[[ExchangeInfo], tuple[str, str]]] = {
    "online": _online,
    "invalid_key": _invalid_key,
    "no_trade_permission": _no_trade,
    "no_futures_permission": _no_futures,
    "ip_not_allowed": _ip_not_allowed,
    "withdraw_enabled": _withdraw_enabled,
    "clock_skew": _clock_skew,
    "rate_limited": _rate_limited,
    "exchange_unavailable": _unavailable,
    "expired": _expired,
    "integrity_error": _integrity,
}
assert set(_EXPLAIN) == set(STATUSES), "every status needs an explanation"


def warning_text(info: ExchangeInfo, warning: str) -> str:
    """One sentence for a person about a connection-test warning."""
    _, _, _, withdraw, ip, mgmt = _names(info)
    if warning == "ip_unrestricted":
        text = (
            f"The key works from any IP address. Add this server's address under '{ip}' in {info.name} > "
            f"{mgmt}, so a leaked key is useless elsewhere."
        )
        if info.unrestricted_key_lifetime:
            text += f" Note: {info.unrestricted_key_lifetime}."
        return text
    if warning == "permissions_unknown":
        return (
            f"TradeWarden could not read this key's permissions from {info.name}, so it cannot confirm that "
            f"'{withdraw}' is off. Check it yourself in {info.name} > {mgmt}."
        )
    return f"Warning from the connection test: {warning}."


def explain(info: ExchangeInfo, status: Status, warnings: Sequence[str] = ()) -> tuple[str, str]:
    """(message, remedy) for a connection-test status, with any warnings appended to the remedy."""
    message, remedy = _EXPLAIN[status](info)
    extra = [warning_text(info, w) for w in warnings]
    if extra:
        remedy = " ".join([remedy, *extra])
    return message, remedy


# Plain words for an exchange we support only through ccxt ("basic"): we do not know its own labels.
_BASIC_SETTINGS = dict(
    zip(
        SETTING_KEYS,
        ("read", "trade", "futures trading", "withdrawals", "IP whitelist", "API management page"),
        strict=True,
    )
)


def basic_info(exchange_id: str) -> ExchangeInfo:
    """A stand-in ExchangeInfo for a "basic" ccxt exchange, with generic setting names."""
    return ExchangeInfo(
        id=exchange_id,
        name=exchange_id.capitalize(),
        tier=0,
        ccxt_ids={"spot": exchange_id, "futures": exchange_id},
        futures_options={},
        credentials=("apiKey", "secret"),
        key_types=("hmac",),
        ip_whitelist=False,
        permission_endpoint=None,  # basic exchanges have no permission check
        setting_names=_BASIC_SETTINGS,
        guide=Guide(
            where="the exchange's API management page",
            enable=("read", "trade"),
            disable=("withdrawals",),
            ip_whitelist="Restrict the key to this server's IP address if the exchange allows it.",
        ),
    )


def explain_basic(exchange_id: str, status: Status, warnings: Sequence[str] = ()) -> tuple[str, str]:
    """explain() for any exchange id: the registry entry when we have one, generic words otherwise."""
    return explain(get_exchange(exchange_id) or basic_info(exchange_id), status, warnings)
