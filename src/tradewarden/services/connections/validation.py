"""Validation of what a user hands us for a connection; each failure names the field and the fix."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from tradewarden.adapters.exchanges import catalog
from tradewarden.adapters.exchanges.endpoint import validate_endpoint
from tradewarden.adapters.store.models import NAME_KEY_LENGTH, name_key
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.errors import InputError

MAX_NAME_LENGTH = 64
CREDENTIAL_FIELDS = catalog.CREDENTIAL_FIELDS  # ccxt's names, the only keys a credentials object may hold
MARKETS = ("spot", "futures", "both")
MAX_CREDENTIALS_BYTES = 64 * 1024
# Exchange-sane lengths: real API keys are 16-100 characters, HMAC secrets 32-128, and an RSA-4096
# private key in PEM (the longest secret any supported exchange accepts) is about 3,300 characters.
FIELD_LENGTHS = {"apiKey": (8, 512), "secret": (8, 8192), "password": (1, 256), "uid": (1, 128)}
PEM_PREFIX = "-----BEGIN "


def _unprintable(text: str) -> tuple[int, str] | None:
    """(1-based position, U+XXXX) of the first control, format, line/paragraph separator or unassigned
    character: they hide or rewrite what a terminal shows (ANSI escapes, bidi overrides, new lines)."""
    for position, ch in enumerate(text, start=1):
        category = unicodedata.category(ch)
        if category.startswith("C") or category in ("Zl", "Zp"):
            return position, f"U+{ord(ch):04X}"
    return None


def validate_name(name: str) -> str:
    """A name: non-empty, at most 64 characters, only printable characters; returned as typed (stripped).

    Uniqueness and lookup use its normalised key (models.name_key); the display keeps what was typed.
    """
    bad = _unprintable(name)
    if bad is not None:
        raise InputError(
            f"contains a control or invisible character ({bad[1]}) at position {bad[0]}",
            "use letters, digits, spaces and punctuation only (no escape sequences or line breaks)",
            field="name",
        )
    stripped = name.strip()
    if not stripped:
        raise InputError("is empty", 'give the connection a name, e.g. "MEXC Spot Main"', field="name")
    if len(stripped) > MAX_NAME_LENGTH:
        raise InputError(
            f"is {len(stripped)} characters long, more than {MAX_NAME_LENGTH}",
            "choose a shorter name",
            field="name",
        )
    if not name_key(stripped).strip() or len(name_key(stripped)) > NAME_KEY_LENGTH:
        raise InputError(
            "has no usable normal form (empty, or too long once normalised)",
            "use plain letters, digits, spaces and punctuation",
            field="name",
        )
    return stripped


def validate_exchange(exchange_id: str) -> str:
    """An exchange id known to ccxt (case-insensitive)."""
    candidate = exchange_id.strip().lower()
    if candidate not in catalog.known_exchange_ids():
        hint = catalog.close_matches(candidate)
        fix = (
            f"did you mean {', '.join(hint)}?"
            if hint
            else "use a ccxt exchange id such as binance, kucoin or mexc"
        )
        raise InputError("is not an exchange ccxt supports", fix, field="exchange")
    return candidate


def validate_supported_exchange(exchange_id: str) -> str:
    """An exchange TradeWarden supports by name (adapters/exchanges/registry.py), case-insensitive."""
    from tradewarden.adapters.exchanges.registry import REGISTRY

    candidate = exchange_id.strip().lower()
    if candidate not in REGISTRY:
        import difflib

        hint = difflib.get_close_matches(candidate, sorted(REGISTRY), n=1)
        maybe = f"did you mean {hint[0]}? " if hint else ""
        raise InputError(
            "is not an exchange TradeWarden supports",
            f"{maybe}use one of {', '.join(sorted(REGISTRY))} (see: tradewarden exchanges)",
            field="exchange",
        )
    return candidate


def validate_market(market: str) -> str:
    """One of spot, futures, both."""
    if market not in MARKETS:
        raise InputError("is not a market", f"use one of {', '.join(MARKETS)}", field="market")
    return market


def validate_endpoint_option(endpoint: str | None) -> str | None:
    """An http(s) base URL for the endpoint override, or None."""
    if endpoint is None:
        return None
    try:
        return validate_endpoint(endpoint)
    except ValueError as exc:
        raise InputError(
            str(exc), "or leave --endpoint out to reach the exchange itself", field="endpoint"
        ) from None


def parse_credentials(raw: bytes) -> dict[str, Secret]:
    """Parse a credentials JSON object in ccxt's field names into Secrets (no length checks yet)."""
    if len(raw) > MAX_CREDENTIALS_BYTES:
        raise InputError(
            f"are {len(raw):,} bytes, more than {MAX_CREDENTIALS_BYTES:,}",
            "give a JSON object with only apiKey, secret and password",
            field="credentials",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            "are not UTF-8 text",
            'give a JSON object like {"apiKey": ..., "secret": ...}',
            field="credentials",
        ) from None
    if not text.strip():
        raise InputError(
            "are empty", 'give a JSON object like {"apiKey": "...", "secret": "..."}', field="credentials"
        )
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position: the message of a JSON error can quote the text, which may be a secret.
        raise InputError(
            f"are not valid JSON (line {exc.lineno}, column {exc.colno})",
            'give a JSON object like {"apiKey": "...", "secret": "..."}',
            field="credentials",
        ) from None
    except RecursionError:  # a small file of nested brackets exhausts the parser's stack
        raise InputError(
            "are nested too deeply to be a credentials object",
            'give a flat JSON object like {"apiKey": "...", "secret": "..."}',
            field="credentials",
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            "must be a JSON object", 'e.g. {"apiKey": "...", "secret": "..."}', field="credentials"
        )
    parsed: dict[str, Secret] = {}
    for position, (key, value) in enumerate(data.items(), start=1):
        if key not in catalog.CREDENTIAL_FIELDS:
            # The position, never the key: a pasted secret can sit where a field name belongs, and a
            # secret that looks like an identifier is still a secret.
            raise InputError(
                f"unknown field #{position} in the credentials (its name is not shown)",
                f"allowed: {', '.join(catalog.CREDENTIAL_FIELDS)}",
                field="credentials",
            )
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InputError(f"is a {type(value).__name__}, not a string", "quote the value", field=key)
        parsed[key] = Secret(value)
    return parsed


def _check_field(name: str, value: Secret) -> None:
    low, high = FIELD_LENGTHS[name]
    text = value.reveal()
    if not low <= len(text) <= high:
        raise InputError(
            f"is {len(text):,} characters long; expected {low} to {high:,}",
            "paste the value exactly as the exchange showed it",
            field=name,
        )
    if text != text.strip():
        raise InputError(
            "starts or ends with whitespace", "paste the value without spaces or line breaks", field=name
        )
    is_pem = name == "secret" and text.startswith(PEM_PREFIX)
    if any(unicodedata.category(ch).startswith("C") and not (is_pem and ch == "\n") for ch in text):
        raise InputError(
            "contains control characters or line breaks",
            "paste the value exactly as the exchange showed it",
            field=name,
        )


def validate_credentials(exchange_id: str, credentials: dict[str, Secret]) -> dict[str, Secret]:
    """Check the fields the exchange requires are present and every value is sane."""
    required = catalog.required_credentials(exchange_id) | {"apiKey", "secret"}
    for name in catalog.CREDENTIAL_FIELDS:
        if name in required and name not in credentials:
            what = "passphrase (ccxt field 'password')" if name == "password" else f"'{name}'"
            raise InputError(
                f"is missing: {exchange_id} requires its {what}",
                f'add "{name}": "..." to the credentials JSON',
                field=name,
            )
    return validate_credentials_fields(credentials)


def validate_credentials_fields(credentials: dict[str, Secret]) -> dict[str, Secret]:
    """Check every given value is within sane lengths and free of stray whitespace."""
    for name, value in credentials.items():
        _check_field(name, value)
    return credentials


def key_type(credentials: dict[str, Secret]) -> str:
    """hmac, or ed25519/rsa when the secret is a PEM private key."""
    secret = credentials["secret"].reveal()
    if not secret.startswith(PEM_PREFIX):
        return "hmac"
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        private_key = load_pem_private_key(secret.encode(), password=None)
    except (ValueError, TypeError):
        raise InputError(
            "looks like a PEM key but does not parse", "paste the whole private key file", field="secret"
        ) from None
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "rsa"
    raise InputError("is a PEM key of an unsupported type", "use an Ed25519 or RSA key", field="secret")


def mask_api_key(api_key: str) -> str:
    """First 4 + … + last 4 characters (fewer for short keys), never more."""
    if len(api_key) >= 12:
        return f"{api_key[:4]}…{api_key[-4:]}"
    return f"{api_key[:2]}…{api_key[-2:]}"
