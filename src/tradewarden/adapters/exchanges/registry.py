"""The supported exchanges: how ccxt names them, what a key needs, and what each exchange calls its settings.

Pure data, no I/O. Setting labels are the exchange's own words as shown on its API-key page or in its
API documentation, so a remedy can tell a person exactly which box to tick or untick. Each entry names the
documentation it was checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

MARKETS = ("spot", "futures", "both")

# Keys every ExchangeInfo.setting_names must carry: the settings a remedy may have to name.
SETTING_KEYS = ("read", "spot_trade", "futures_trade", "withdraw", "ip_whitelist", "api_management")


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Guide:
    """Our own words, for a person creating an API key on the exchange's site."""

    where: str
    enable: tuple[str, ...]
    disable: tuple[str, ...]
    ip_whitelist: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExchangeInfo:
    """What TradeWarden knows about one supported exchange."""

    id: str
    name: str
    tier: int
    ccxt_ids: Mapping[str, str]
    futures_options: Mapping[str, Any]
    credentials: tuple[str, ...]
    key_types: tuple[str, ...]
    ip_whitelist: bool
    permission_endpoint: str | None
    setting_names: Mapping[str, str]
    guide: Guide
    # Days after which the exchange deletes or disables a trading key that has no IP whitelist; None when
    # the exchange documents no such rule (see remedies.warning_text).
    unrestricted_key_lifetime: str | None = field(default=None)
    # The testnet/demo environment ccxt 4.5.90 reaches with set_sandbox_mode(True) (its urls['test']);
    # None: the exchange has none in ccxt, and `connections add --testnet` is refused.
    testnet: str | None = field(default=None)


_BINANCE = ExchangeInfo(
    # Source: developers.binance.com wallet/account/api-key-permission (GET /sapi/v1/account/apiRestrictions);
    # Binance announcement "Updates to API Key Permission Rules" (2021-07-08) for the 30-day trading expiry.
    id="binance",
    name="Binance",
    tier=1,
    ccxt_ids=_frozen({"spot": "binance", "futures": "binanceusdm"}),
    futures_options=_frozen({}),
    credentials=("apiKey", "secret"),
    key_types=("hmac", "ed25519", "rsa"),
    ip_whitelist=True,
    permission_endpoint="GET /sapi/v1/account/apiRestrictions",
    setting_names=_frozen(
        {
            "read": "Enable Reading",
            "spot_trade": "Enable Spot & Margin Trading",
            "futures_trade": "Enable Futures",
            "withdraw": "Enable Withdrawals",
            "ip_whitelist": "Restrict access to trusted IPs only",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Profile menu > Account > API Management > Create API (choose 'System generated', or "
        "'Self-generated' to paste an Ed25519 public key made by `tradewarden connections keygen`)",
        enable=("Enable Reading", "Enable Spot & Margin Trading", "Enable Futures (only for futures bots)"),
        disable=("Enable Withdrawals", "Enable Margin Loan, Repay & Transfer", "Permits Universal Transfer"),
        ip_whitelist="Under 'IP access restrictions' choose 'Restrict access to trusted IPs only' and add "
        "this server's public address. Without it Binance switches 'Enable Spot & Margin Trading' off "
        "30 days after it was turned on.",
        notes=(
            "'Enable Futures' can only be ticked once the futures account is open; keys made before that "
            "cannot trade futures.",
        ),
    ),
    unrestricted_key_lifetime="Binance turns 'Enable Spot & Margin Trading' off 30 days after it was enabled "
    "on a key with no trusted IPs",
    testnet="Spot Testnet (testnet.binance.vision) and USD-M Futures testnet (testnet.binancefuture.com)",
)

_KUCOIN = ExchangeInfo(
    # Source: kucoin.com/docs (Account > Get Apikey Info, GET /api/v1/user/api-key; REST error codes).
    id="kucoin",
    name="KuCoin",
    tier=1,
    ccxt_ids=_frozen({"spot": "kucoin", "futures": "kucoinfutures"}),
    futures_options=_frozen({}),
    credentials=("apiKey", "secret", "password"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /api/v1/user/api-key",
    setting_names=_frozen(
        {
            "read": "General",
            "spot_trade": "Spot Trading",
            "futures_trade": "Futures Trading",
            "withdraw": "Withdrawal",
            "ip_whitelist": "IP Restriction",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Account avatar > API Management > Create API (choose 'API Trading')",
        enable=("General", "Spot Trading", "Futures Trading (only for futures bots)"),
        disable=("Withdrawal", "Transfer", "Margin Trading"),
        ip_whitelist="Turn 'IP Restriction' on and enter this server's public address.",
        notes=("The API passphrase you choose here is the 'password' field of the credentials file.",),
    ),
)

_MEXC = ExchangeInfo(
    # Source: mexc.com/api-docs/spot-v3 (GET /api/v3/apiKeyInfo, sub-account API key permission names,
    # wallet endpoints' SPOT_WITHDRAW_* permissions, error codes).
    id="mexc",
    name="MEXC",
    tier=1,
    ccxt_ids=_frozen({"spot": "mexc", "futures": "mexc"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /api/v3/apiKeyInfo",
    setting_names=_frozen(
        {
            "read": "Account Details: View (SPOT_ACCOUNT_READ)",
            "spot_trade": "Spot Trade: Trade (SPOT_DEAL_WRITE)",
            "futures_trade": "Futures Trade: Trade (CONTRACT_DEAL_WRITE)",
            "withdraw": "Withdrawal (SPOT_WITHDRAW_WRITE)",
            "ip_whitelist": "Link IP Address",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Account avatar > API Management > Create new API key",
        enable=(
            "Account Details: View",
            "Spot Trade: View and Trade",
            "Futures Trade (only for futures bots)",
        ),
        disable=("Withdrawal", "Transfer"),
        ip_whitelist="Fill 'Link IP Address' with this server's public address. MEXC keys with no linked IP "
        "expire after 90 days.",
    ),
    unrestricted_key_lifetime="MEXC keys with no linked IP expire after 90 days",
)

_OKX = ExchangeInfo(
    # Source: okx.com/docs-v5 (GET /api/v5/account/config: perm, ip; REST error codes 501xx);
    # okx.com/help/api-faq for the page names.
    id="okx",
    name="OKX",
    tier=2,
    ccxt_ids=_frozen({"spot": "okx", "futures": "okx"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret", "password"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /api/v5/account/config",
    setting_names=_frozen(
        {
            "read": "Read",
            "spot_trade": "Trade",
            "futures_trade": "Trade",
            "withdraw": "Withdraw",
            "ip_whitelist": "IP address allowlist",
            "api_management": "API keys",
        }
    ),
    guide=Guide(
        where="Profile > API keys > Create API key (purpose: API trading)",
        enable=("Read", "Trade"),
        disable=("Withdraw",),
        ip_whitelist="Enter this server's public address in the IP address allowlist (up to 20 addresses).",
        notes=(
            "OKX's 'Trade' covers spot and derivatives alike.",
            "The passphrase you choose is the 'password' field of the credentials file.",
        ),
    ),
    unrestricted_key_lifetime="OKX deletes trade or withdraw keys with no linked IP after 14 days unused",
    testnet="Demo trading (www.okx.com with the header x-simulated-trading: 1; a demo-trading key)",
)

_BYBIT = ExchangeInfo(
    # Source: bybit-exchange.github.io/docs/v5/user/apikey-info (GET /v5/user/query-api) and v5 error codes.
    id="bybit",
    name="Bybit",
    tier=2,
    ccxt_ids=_frozen({"spot": "bybit", "futures": "bybit"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret"),
    key_types=("hmac", "rsa"),
    ip_whitelist=True,
    permission_endpoint="GET /v5/user/query-api",
    setting_names=_frozen(
        {
            "read": "API Key Permissions: Read-Write",
            "spot_trade": "SPOT: Trade",
            "futures_trade": "Contracts: Orders, Positions (Unified Trading)",
            "withdraw": "Assets: Withdrawal",
            "ip_whitelist": "Only IPs with permissions granted are allowed to access the OpenAPI",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Account avatar > API > Create New Key > System-generated API Keys > API Transaction",
        enable=("Read-Write", "SPOT: Trade", "Contracts: Orders, Positions (only for futures bots)"),
        disable=("Assets: Withdrawal", "Assets: Account Transfer", "Subaccount Transfer"),
        ip_whitelist="Choose 'Only IPs with permissions granted are allowed to access the OpenAPI' and add "
        "this server's public address. Keys with no IP bound expire after three months.",
    ),
    unrestricted_key_lifetime="Bybit keys with no IP bound expire after three months",
    testnet="Testnet (api-testnet.bybit.com; a testnet key)",
)

_BITGET = ExchangeInfo(
    # Source: bitget.com/api-doc/spot/account/Get-Account-Info (GET /api/v2/spot/account/info: ips,
    # authorities) and bitget.com error codes.
    id="bitget",
    name="Bitget",
    tier=3,
    ccxt_ids=_frozen({"spot": "bitget", "futures": "bitget"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret", "password"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /api/v2/spot/account/info",
    setting_names=_frozen(
        {
            "read": "Read-only",
            "spot_trade": "Spot: Trade (Read and Write)",
            "futures_trade": "Futures: Orders (Read and Write)",
            "withdraw": "Wallet: Withdraw",
            "ip_whitelist": "Bind IP address",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Personal Center > API Management > Create API (system-generated key)",
        enable=("Spot: Trade", "Futures: Orders and Holdings (only for futures bots)"),
        disable=("Wallet: Withdraw", "Wallet: Transfer"),
        ip_whitelist="Bind this server's public address to the key.",
        notes=("The passphrase you choose is the 'password' field of the credentials file.",),
    ),
)

_GATE = ExchangeInfo(
    # Source: gate.com API v4 docs (GET /account/detail: ip_whitelist; GET /account/main_keys: perms with
    # name/read_only; error labels) and gate.com help "How to utilize API" for the 90-day rule.
    id="gate",
    name="Gate",
    tier=3,
    ccxt_ids=_frozen({"spot": "gate", "futures": "gate"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /api/v4/account/detail + GET /api/v4/account/main_keys",
    setting_names=_frozen(
        {
            "read": "Read Only",
            "spot_trade": "Spot/Margin Trade: Read and Write",
            "futures_trade": "Perpetual Futures: Read and Write",
            "withdraw": "Wallet / Withdrawal: Read and Write",
            "ip_whitelist": "IP Whitelist (bind IP)",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Profile icon > API Management > Create API Key (API v4 key, classic or unified account)",
        enable=(
            "Spot/Margin Trade: Read and Write",
            "Perpetual Futures: Read and Write (only for futures bots)",
        ),
        disable=("Wallet / Withdrawal write access",),
        ip_whitelist="Bind this server's public address. Keys with no bound IP are valid for 90 days only.",
    ),
    unrestricted_key_lifetime="Gate keys with no bound IP are valid for 90 days",
)

_HTX = ExchangeInfo(
    # Source: huobiapi.github.io/docs/spot/v1/en (GET /v2/user/api-key, GET /v2/user/uid) and HTX announcement
    # "HTX Will Introduce The API Key Management Endpoints" (2020-06-05).
    id="htx",
    name="HTX",
    tier=3,
    ccxt_ids=_frozen({"spot": "htx", "futures": "htx"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /v2/user/api-key",
    setting_names=_frozen(
        {
            "read": "Read-only",
            "spot_trade": "Trade",
            "futures_trade": "Trade",
            "withdraw": "Withdraw",
            "ip_whitelist": "Bind IP address",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Account > API Management > Create API key",
        enable=("Read-only", "Trade"),
        disable=("Withdraw",),
        ip_whitelist="Bind this server's public address. HTX keys with no bound IP expire after 90 days.",
    ),
    unrestricted_key_lifetime="HTX keys with no bound IP expire after 90 days",
)

_BINGX = ExchangeInfo(
    # Source: bingx-api.github.io docs (GET /openApi/v1/account/apiPermissions; permission codes
    # 1 spot, 2 read, 3 perpetual futures, 4 universal transfer, 5 withdraw, 7 internal transfer)
    # and bingx.com/account/api notes for the 14-day rule.
    id="bingx",
    name="BingX",
    tier=3,
    ccxt_ids=_frozen({"spot": "bingx", "futures": "bingx"}),
    futures_options=_frozen({"defaultType": "swap"}),
    credentials=("apiKey", "secret"),
    key_types=("hmac",),
    ip_whitelist=True,
    permission_endpoint="GET /openApi/v1/account/apiPermissions",
    setting_names=_frozen(
        {
            "read": "Read",
            "spot_trade": "Spot Trading",
            "futures_trade": "Perpetual Futures Trading",
            "withdraw": "Withdraw",
            "ip_whitelist": "Link IP address",
            "api_management": "API Management",
        }
    ),
    guide=Guide(
        where="Account > API Management > Create API",
        enable=("Read", "Spot Trading", "Perpetual Futures Trading (only for futures bots)"),
        disable=("Withdraw", "Universal Transfer", "Subaccount management"),
        ip_whitelist="Link this server's public address (up to 20). BingX deletes trading keys with no "
        "linked IP after 14 days without use.",
    ),
    unrestricted_key_lifetime="BingX deletes trading keys with no linked IP after 14 days without use",
)

_COINBASE = ExchangeInfo(
    # Source: docs.cdp.coinbase.com Advanced Trade API (GET /api/v3/brokerage/key_permissions:
    # can_view, can_trade, can_transfer, portfolio_uuid, portfolio_type; REST scopes view/trade/transfer).
    id="coinbase",
    name="Coinbase",
    tier=3,
    ccxt_ids=_frozen({"spot": "coinbase", "futures": "coinbase"}),
    futures_options=_frozen({"defaultType": "future"}),
    credentials=("apiKey", "secret"),
    # CDP keys are an ECDSA private key that ccxt turns into an ES256 JWT; no shared-secret HMAC.
    key_types=("ecdsa",),
    ip_whitelist=True,
    permission_endpoint="GET /api/v3/brokerage/key_permissions",
    setting_names=_frozen(
        {
            "read": "View",
            "spot_trade": "Trade",
            "futures_trade": "Trade",
            "withdraw": "Transfer",
            "ip_whitelist": "IP allowlist",
            "api_management": "Coinbase Developer Platform > API Keys",
        }
    ),
    guide=Guide(
        where="portal.cdp.coinbase.com > API Keys > Create API key (Secret API key, ECDSA signature)",
        enable=("View", "Trade"),
        disable=("Transfer",),
        ip_whitelist="Under advanced settings add this server's public address to the IP allowlist.",
        notes=(
            "The key name ('organizations/.../apiKeys/...') is the apiKey and the private key PEM is the "
            "secret.",
            "Each key is tied to one portfolio.",
        ),
    ),
)

REGISTRY: Mapping[str, ExchangeInfo] = MappingProxyType(
    {
        info.id: info
        for info in (_BINANCE, _KUCOIN, _MEXC, _OKX, _BYBIT, _BITGET, _GATE, _HTX, _BINGX, _COINBASE)
    }
)


def get_exchange(exchange_id: str) -> ExchangeInfo | None:
    """The registry entry for `exchange_id`, or None for an exchange we do not support by name."""
    return REGISTRY.get(exchange_id)


def client_options(info: ExchangeInfo | None, market: str, testnet: bool) -> dict[str, Any]:
    """ccxt options of a connection's client: the futures defaults, and `sandbox` for a testnet (ccxt
    then calls set_sandbox_mode(True) while constructing the client, before any endpoint override)."""
    options = dict(info.futures_options) if info is not None and market == "futures" else {}
    if testnet:
        options["sandbox"] = True
        if info is not None and info.id == "binance":
            # ccxt 4.5.90 refuses signed calls to testnet.binancefuture.com unless told to (it steers to
            # Binance's demo trading instead, which TradeWarden does not speak yet); the testnet still
            # serves USD-M, so the USD-M testnet is reached on purpose.
            options["disableFuturesSandboxWarning"] = True
    return options


def ccxt_id_for(info: ExchangeInfo, market: str) -> str:
    """The ccxt class id serving `market` (spot, futures or both; both uses the spot client)."""
    if market not in MARKETS:
        raise ValueError(f"market {market!r} is not one of {', '.join(MARKETS)}")
    return info.ccxt_ids["futures" if market == "futures" else "spot"]
