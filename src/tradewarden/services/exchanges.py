"""The supported exchanges, as the CLI and the API list them (the registry, tier 1 first)."""

from __future__ import annotations

from typing import Any

from tradewarden.adapters.exchanges.registry import REGISTRY, ExchangeInfo

__all__ = ["ExchangeInfo", "find_exchange", "needs", "summary", "supported_exchanges"]

# The sim's venues (sim/venues): exchanges whose keys `tradewarden sim key` can mint.
SIMULATED = frozenset({"binance", "kucoin", "mexc", "okx", "bybit"})
CREDENTIAL_WORDS = {"apiKey": "API key", "secret": "secret", "password": "passphrase", "uid": "user id"}


def supported_exchanges() -> list[ExchangeInfo]:
    """Every supported exchange, tier 1 first, then by name."""
    return sorted(REGISTRY.values(), key=lambda info: (info.tier, info.name))


def find_exchange(exchange_id: str) -> ExchangeInfo | None:
    """One supported exchange by id (case-insensitive), or None."""
    return REGISTRY.get(exchange_id.strip().lower())


def needs(info: ExchangeInfo) -> str:
    """What a connection to this exchange needs, in words: "API key, secret, passphrase"."""
    return ", ".join(CREDENTIAL_WORDS.get(field, field) for field in info.credentials)


def summary(info: ExchangeInfo) -> dict[str, Any]:
    """The `tradewarden exchanges --json` object of one exchange."""
    return {
        "id": info.id,
        "name": info.name,
        "tier": info.tier,
        "markets": sorted(info.ccxt_ids),
        "credentials": list(info.credentials),
        "needs": needs(info),
        "key_types": list(info.key_types),
        "ip_whitelist": info.ip_whitelist,
        "permission_check": info.permission_endpoint is not None,
        "simulator": info.id in SIMULATED,
        "testnet": info.testnet,  # what `connections add --testnet` reaches, or None
    }
