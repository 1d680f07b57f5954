"""Messages and remedies for a person: what the connection test found and what to do, in the exchange's words.

Every remedy names the exchange's own setting (ExchangeInfo.setting_names) so the user can find the box to
tick without guessing. Pure text, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from tradewarden.adapters.exchanges.errors import STATUSES, Status
from tradewarden.adapters.exchanges.registry import SETTING_KEYS, ExchangeInfo, Guide, get_exchange

WARNINGS = ("ip_unrestricted", "permissions_unknown")

# Exchange codes that mean the API passphrase (not the key) is wrong: the headline must say passphrase.
# KuCoin 400004 "Invalid API passphrase"; OKX 50105 "OK-ACCESS-PASSPHRASE incorrect".
PASSPHRASE_CODES: Mapping[str, frozenset[str]] = MappingProxyType(
    {"kucoin": frozenset({"400004"}), "okx": frozenset({"50105"})}
)

# Every sentence this module can say, by code. The English text is the template filled with the phrase's
# params ({exchange} and the exchange's own setting labels, plus what a code adds); the dashboard
# translates by code with the same params and falls back to `text`. Codes are a contract: add, never reuse.
TEMPLATES: Mapping[str, str] = MappingProxyType(
    {
        "status.online.message": "{exchange} accepted the key: it can read the account and trade, and "
        "withdrawals are off.",
        "status.online.remedy": "Nothing to do. Keep '{withdraw}' switched off for as long as bots use this "
        "key.",
        "status.invalid_key.message": "{exchange} did not accept the API key.",
        "status.invalid_key.binance.message": "{exchange} rejected the key: it is invalid or revoked, this "
        "server's IP is not trusted, or the key lacks a permission.",
        "status.invalid_key.remedy": "Open {exchange} > {api_management} and check the key still exists and "
        "is enabled, then copy the key and secret again (no spaces at either end). The key needs '{read}'. "
        "If it was deleted, create a new one and run `connections rotate`.",
        "status.invalid_key.remedy_passphrase": "Open {exchange} > {api_management} and check the key still "
        "exists and is enabled, then copy the key and secret again (no spaces at either end), and the "
        "passphrase you chose when creating it. The key needs '{read}'. If it was deleted, create a new one "
        "and run `connections rotate`.",
        "status.invalid_key.binance.remedy": "Open {exchange} > {api_management} and check the key still "
        "exists and is enabled, then copy the key and secret again (no spaces at either end). The key needs "
        "'{read}'. If it was deleted, create a new one and run `connections rotate`. Also check "
        "'{ip_whitelist}' lists this server's address.",
        "status.invalid_key.passphrase.message": "{exchange} did not accept the API passphrase: it is not "
        "the one chosen when this key was created.",
        "status.invalid_key.passphrase.remedy": "Enter the API passphrase exactly as you chose it when you "
        "created the key in {exchange} > {api_management} (it is not your account password), then correct "
        "it in place with `connections edit NAME --credentials FILE`. If it is lost, create a new key and "
        "run `connections rotate`.",
        "status.no_trade_permission.message": "The key can read your {exchange} account but is not allowed "
        "to trade.",
        "status.no_trade_permission.remedy": "In {exchange} > {api_management}, edit the key and switch on "
        "'{spot_trade}', save, then run the test again.",
        "status.no_futures_permission.message": "The key cannot trade futures on {exchange}, and this "
        "connection is set up for futures.",
        "status.no_futures_permission.remedy": "In {exchange} > {api_management}, edit the key and switch "
        "on '{futures_trade}', save, then run the test again.",
        "status.no_futures_permission.binance.remedy": "In {exchange} > {api_management}, edit the key and "
        "switch on '{futures_trade}', save, then run the test again. Binance only offers this box once the "
        "futures account is open; older keys need replacing.",
        "status.ip_not_allowed.message": "{exchange} refused the request because this server's IP address is "
        "not on the key's whitelist.",
        "status.ip_not_allowed.remedy_ip": "In {exchange} > {api_management}, edit the key and add this "
        "server's public IP address {ip} under '{ip_whitelist}'. If the server's address changes often, "
        "give it a fixed outbound address first.",
        "status.ip_not_allowed.remedy": "In {exchange} > {api_management}, edit the key and add this "
        "server's public IP address under '{ip_whitelist}'. It could not be determined here: open a "
        "what-is-my-IP page in a browser on this server, or ask your network administrator. If the "
        "server's address changes often, give it a fixed outbound address first.",
        "status.withdraw_enabled.message": "This {exchange} key can withdraw funds, so TradeWarden refuses "
        "it for bots: the connection is refused until withdrawals are switched off.",
        "status.withdraw_enabled.remedy": "In {exchange} > {api_management}, edit the key and switch off "
        "'{withdraw}' (or create a new key without it), then run the test again. A bot never needs to "
        "withdraw.",
        "status.clock_skew.message": "{exchange} rejected the request time: this server's clock is too far "
        "from the exchange's.",
        "status.clock_skew.remedy": "Synchronise the server clock (turn on NTP, e.g. `timedatectl set-ntp "
        "true`) and test again.",
        "status.rate_limited.message": "{exchange} is limiting requests from this server for now.",
        "status.rate_limited.remedy": "Wait a minute and run the test again. If it keeps happening, stop "
        "other programs using the same key or IP address.",
        "status.exchange_unavailable.message": "{exchange} could not be reached or answered with a server "
        "error.",
        "status.exchange_unavailable.remedy": "Nothing is wrong with the key as far as we can tell. Check "
        "{exchange}'s status page or your network, and run the test again later.",
        "status.exchange_unavailable.simulated.message": "The exchange simulator at {endpoint} did not "
        "answer.",
        "status.exchange_unavailable.simulated.remedy": "Start the simulator again (`tradewarden up` starts "
        "it for every connection that points at it, or `tradewarden sim serve --port PORT`), then run the "
        "test again.",
        "status.expired.message": "The {exchange} API key has expired.",
        "status.expired.remedy": "Create a new key in {exchange} > {api_management}, set '{ip_whitelist}' to "
        "this server's address so it does not lapse again, then run `connections rotate` with the new key.",
        "status.integrity_error.message": "The stored key for {name} cannot be decrypted: it was altered or "
        "moved.",
        "status.integrity_error.remedy": "Rotate the key ({command}) with a key from {exchange}; the stored "
        "one cannot be recovered. Check who else can write to TradeWarden's database.",
        "status.unverified.message": "TradeWarden could not verify this key's permissions on {exchange}, so "
        "it cannot confirm that '{withdraw}' is off: the connection is not Online. The test will be retried.",
        "status.unverified.remedy": "Nothing to change yet: the health monitor retries the test, or run "
        "`tradewarden connections test` again later. If it keeps failing, check {exchange}'s status page "
        "and, in {exchange} > {api_management}, that '{withdraw}' is off.",
        "warning.ip_unrestricted": "The key works from any IP address. Add this server's address under "
        "'{ip_whitelist}' in {exchange} > {api_management}, so a leaked key is useless elsewhere.",
        "warning.ip_unrestricted.lifetime": "The key works from any IP address. Add this server's address "
        "under '{ip_whitelist}' in {exchange} > {api_management}, so a leaked key is useless elsewhere. "
        "Note: {lifetime}.",
        "warning.permissions_unknown": "TradeWarden could not read this key's permissions from "
        "{exchange}, so it cannot confirm that '{withdraw}' is off. Check it yourself in {exchange} > "
        "{api_management}.",
        "warning.other": "Warning from the connection test: {warning}.",
    }
)


@dataclass(frozen=True)
class Phrase:
    """One sentence for a person: a stable code, its parameters, and the English text they make."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English text (the fallback of every translation)."""
        return TEMPLATES[self.code].format(**self.params)


def _params(info: ExchangeInfo, **extra: str) -> dict[str, str]:
    """{exchange} and the exchange's own label of every setting, plus `extra`."""
    return {"exchange": info.name, **{key: info.setting_names[key] for key in SETTING_KEYS}, **extra}


@dataclass(frozen=True)
class Explanation:
    """What the test found and what to do, as phrases; `notes` are the warnings' sentences."""

    message: Phrase
    remedy: Phrase
    notes: tuple[tuple[str, Phrase], ...] = ()

    @property
    def remedy_text(self) -> str:
        """The remedy with every warning's sentence appended (the `remedy` string of the API)."""
        return " ".join([self.remedy.text, *(note.text for _, note in self.notes)])

    def pair(self) -> tuple[str, str]:
        """(message, remedy) as English text."""
        return self.message.text, self.remedy_text


def _status(info: ExchangeInfo, status: Status, code: str | None, ip: str | None) -> tuple[Phrase, Phrase]:
    params = _params(info)
    message, remedy = f"status.{status}.message", f"status.{status}.remedy"
    if status == "invalid_key":
        if code is not None and code in PASSPHRASE_CODES.get(info.id, frozenset()):
            message, remedy = "status.invalid_key.passphrase.message", "status.invalid_key.passphrase.remedy"
        elif info.id == "binance":
            # Binance answers -2015 for a bad key, an untrusted IP and a missing permission alike.
            message, remedy = "status.invalid_key.binance.message", "status.invalid_key.binance.remedy"
        elif "password" in info.credentials:
            remedy = "status.invalid_key.remedy_passphrase"
    elif status == "no_futures_permission" and info.id == "binance":
        remedy = "status.no_futures_permission.binance.remedy"
    elif status == "ip_not_allowed" and ip:
        remedy, params = "status.ip_not_allowed.remedy_ip", {**params, "ip": ip}
    elif status == "integrity_error":
        return _integrity_phrases(None, info)
    return Phrase(message, params), Phrase(remedy, params)


def warning_phrase(info: ExchangeInfo, warning: str) -> Phrase:
    """The sentence for a connection-test warning."""
    if warning == "ip_unrestricted":
        if info.unrestricted_key_lifetime:
            return Phrase(
                "warning.ip_unrestricted.lifetime", _params(info, lifetime=info.unrestricted_key_lifetime)
            )
        return Phrase("warning.ip_unrestricted", _params(info))
    if warning == "permissions_unknown":
        return Phrase("warning.permissions_unknown", _params(info))
    return Phrase("warning.other", {"warning": warning})


def warning_text(info: ExchangeInfo, warning: str) -> str:
    """One sentence for a person about a connection-test warning."""
    return warning_phrase(info, warning).text


def explanation(
    info: ExchangeInfo,
    status: Status,
    warnings: Sequence[str] = (),
    *,
    code: str | None = None,
    ip: str | None = None,
) -> Explanation:
    """The phrases for a test status: the exchange's `code` picks the exact cause (e.g. the passphrase),
    `ip` is this server's public address for the IP whitelist remedy (None: could not be determined)."""
    message, remedy = _status(info, status, code, ip)
    return Explanation(message, remedy, tuple((w, warning_phrase(info, w)) for w in warnings))


def explain(
    info: ExchangeInfo,
    status: Status,
    warnings: Sequence[str] = (),
    *,
    code: str | None = None,
    ip: str | None = None,
) -> tuple[str, str]:
    """(message, remedy) for a connection-test status, with any warnings appended to the remedy."""
    return explanation(info, status, warnings, code=code, ip=ip).pair()


def _integrity_phrases(name: str | None, info: ExchangeInfo) -> tuple[Phrase, Phrase]:
    who = name if name is not None else "this connection"
    command = f'connections rotate "{name}"' if name is not None else "connections rotate NAME"
    return (
        Phrase("status.integrity_error.message", {**_params(info), "name": who}),
        Phrase("status.integrity_error.remedy", {**_params(info), "command": command}),
    )


def integrity_explanation(name: str | None, info: ExchangeInfo) -> Explanation:
    """The phrases for a connection whose sealed key no longer decrypts (tampered or moved)."""
    return Explanation(*_integrity_phrases(name, info))


def integrity(name: str | None, info: ExchangeInfo) -> tuple[str, str]:
    """(message, remedy) for a connection whose sealed key no longer decrypts (tampered or moved)."""
    return integrity_explanation(name, info).pair()


def unverified_explanation(info: ExchangeInfo) -> Explanation:
    """The phrases when the exchange has a permission endpoint but the permission read failed."""
    params = _params(info)
    return Explanation(
        Phrase("status.unverified.message", params), Phrase("status.unverified.remedy", params)
    )


def unverified(info: ExchangeInfo) -> tuple[str, str]:
    """(message, remedy) when the exchange has a permission endpoint but the permission read failed."""
    return unverified_explanation(info).pair()


def simulator_down_explanation(info: ExchangeInfo, endpoint: str) -> Explanation:
    """The phrases when a simulator-backed connection finds no simulator at its endpoint."""
    params = _params(info, endpoint=endpoint)
    return Explanation(
        Phrase("status.exchange_unavailable.simulated.message", params),
        Phrase("status.exchange_unavailable.simulated.remedy", params),
    )


assert all(f"status.{s}.message" in TEMPLATES and f"status.{s}.remedy" in TEMPLATES for s in STATUSES), (
    "every status needs an explanation"
)


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


def info_or_basic(exchange_id: str) -> ExchangeInfo:
    """The registry entry for `exchange_id`, or generic words for a "basic" ccxt exchange."""
    return get_exchange(exchange_id) or basic_info(exchange_id)


def explain_basic(exchange_id: str, status: Status, warnings: Sequence[str] = ()) -> tuple[str, str]:
    """explain() for any exchange id: the registry entry when we have one, generic words otherwise."""
    return explain(info_or_basic(exchange_id), status, warnings)
