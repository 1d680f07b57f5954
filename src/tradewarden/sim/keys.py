"""API keys the simulated venues accept: permissions, IP whitelist, key type, lifetime."""

from __future__ import annotations

import ipaddress
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .signing import load_ed25519_public_key

PERMISSIONS = ("read", "spot_trade", "futures_trade", "withdraw")
KEY_TYPES = ("hmac", "ed25519")
_ALNUM = string.ascii_letters + string.digits


def _token(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


@dataclass
class ApiKey:
    """One key of one venue; `account` names the balances it trades (one account per key by default)."""

    api_key: str
    venue: str
    permissions: frozenset[str]
    ip_whitelist: tuple[str, ...]
    key_type: str
    secret: str | None
    passphrase: str | None
    public_key_pem: str | None
    public_key: Ed25519PublicKey | None
    account: str
    created_ms: int
    expires_ms: int | None = None
    revoked: bool = False
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def has(self, permission: str) -> bool:
        """True when the key holds `permission` (one of PERMISSIONS)."""
        return permission in self.permissions

    def allows_ip(self, remote: str | None) -> bool:
        """True when the whitelist is empty or contains the client address (CIDR entries allowed)."""
        if not self.ip_whitelist:
            return True
        if remote is None:
            return False
        try:
            addr = ipaddress.ip_address(remote)
        except ValueError:
            return False
        for entry in self.ip_whitelist:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def is_active(self, now_ms: int) -> bool:
        """False once revoked or past its expiry."""
        return not self.revoked and (self.expires_ms is None or now_ms < self.expires_ms)

    def public_view(self) -> dict[str, Any]:
        """Admin view of the key without secret material."""
        return {
            "apiKey": self.api_key,
            "venue": self.venue,
            "permissions": sorted(self.permissions),
            "ip_whitelist": list(self.ip_whitelist),
            "key_type": self.key_type,
            "account": self.account,
            "created_at": self.created_ms,
            "expires_at": self.expires_ms,
            "revoked": self.revoked,
            **self.extra,
        }


class KeyError_(ValueError):
    """Raised for an invalid key specification."""


class KeyStore:
    """Thread-safe registry of keys for all venues."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._lock = threading.Lock()

    def create(
        self,
        venue: str,
        permissions: list[str] | tuple[str, ...] = ("read", "spot_trade"),
        ip_whitelist: list[str] | tuple[str, ...] = (),
        key_type: str = "hmac",
        public_key: str | None = None,
        with_passphrase: bool = False,
        passphrase: str | None = None,
        account: str | None = None,
        expires_ms: int | None = None,
        api_key: str | None = None,
        secret: str | None = None,
        key_length: int = 64,
        extra: dict[str, Any] | None = None,
    ) -> ApiKey:
        """Create and register a key; raises KeyError_ on a bad specification."""
        bad = [p for p in permissions if p not in PERMISSIONS]
        if bad:
            raise KeyError_(f"unknown permissions {bad}; allowed {list(PERMISSIONS)}")
        if key_type not in KEY_TYPES:
            raise KeyError_(f"key_type must be one of {list(KEY_TYPES)}")
        for entry in ip_whitelist:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise KeyError_(f"bad ip_whitelist entry {entry!r}") from exc
        pub: Ed25519PublicKey | None = None
        if key_type == "ed25519":
            if not public_key:
                raise KeyError_("ed25519 keys need public_key (PEM)")
            try:
                pub = load_ed25519_public_key(public_key)
            except ValueError as exc:
                raise KeyError_(str(exc)) from exc
            secret = None
        elif secret is None:
            secret = _token(key_length)
        if with_passphrase and passphrase is None:
            passphrase = _token(16)
        key_id = api_key or _token(key_length)
        with self._lock:
            if key_id in self._keys:
                raise KeyError_("apiKey already exists")
            key = ApiKey(
                api_key=key_id,
                venue=venue,
                permissions=frozenset(permissions),
                ip_whitelist=tuple(ip_whitelist),
                key_type=key_type,
                secret=secret,
                passphrase=passphrase,
                public_key_pem=public_key if key_type == "ed25519" else None,
                public_key=pub,
                account=account or f"acct-{key_id[:12]}",
                created_ms=int(time.time() * 1000),
                expires_ms=expires_ms,
                extra=dict(extra or {}),
            )
            self._keys[key_id] = key
        return key

    def get(self, api_key: str | None) -> ApiKey | None:
        """The key with this id (revoked ones included), or None."""
        if not api_key:
            return None
        return self._keys.get(api_key)

    def revoke(self, api_key: str) -> bool:
        """Mark a key revoked; False when unknown."""
        key = self._keys.get(api_key)
        if key is None:
            return False
        key.revoked = True
        return True

    def for_venue(self, venue: str) -> list[ApiKey]:
        """All keys of a venue."""
        return [k for k in list(self._keys.values()) if k.venue == venue]
