"""What ccxt knows about an exchange id: whether it exists and which credentials it requires."""

from __future__ import annotations

from functools import cache

# ccxt's credential names that TradeWarden stores sealed.
CREDENTIAL_FIELDS = ("apiKey", "secret", "password", "uid")


def known_exchange_ids() -> frozenset[str]:
    """Every exchange id ccxt supports."""
    import ccxt  # imported lazily: it takes a noticeable part of a second and most commands never need it

    return frozenset(ccxt.exchanges)


@cache
def required_credentials(exchange_id: str) -> frozenset[str]:
    """The credential fields (ccxt names) the exchange requires, from ccxt's `requiredCredentials`."""
    import ccxt

    exchange_class = getattr(ccxt, exchange_id)
    required = exchange_class().requiredCredentials
    return frozenset(name for name in CREDENTIAL_FIELDS if required.get(name))


def close_matches(exchange_id: str, limit: int = 3) -> list[str]:
    """Known ids that look like `exchange_id`, for 'did you mean' hints."""
    import difflib

    return difflib.get_close_matches(exchange_id, sorted(known_exchange_ids()), n=limit)
