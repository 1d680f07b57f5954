"""Signature primitives venues use to check requests (HMAC-SHA256 and Ed25519)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key


def hmac_sha256(secret: str, payload: str | bytes) -> bytes:
    """Raw HMAC-SHA256 digest of `payload` keyed with `secret`."""
    data = payload.encode() if isinstance(payload, str) else payload
    return hmac.new(secret.encode(), data, hashlib.sha256).digest()


def hmac_sha256_hex(secret: str, payload: str | bytes) -> str:
    """Lower-case hex HMAC-SHA256 (Binance, MEXC, Bybit style)."""
    return hmac_sha256(secret, payload).hex()


def hmac_sha256_b64(secret: str, payload: str | bytes) -> str:
    """Base64 HMAC-SHA256 (KuCoin, OKX style)."""
    return base64.b64encode(hmac_sha256(secret, payload)).decode()


def equal(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def verify_hmac_hex(secret: str, payload: str | bytes, signature: str) -> bool:
    """True when `signature` is the hex HMAC-SHA256 of payload; hex case is ignored, as Binance does."""
    return equal(hmac_sha256_hex(secret, payload), signature.lower())


def load_ed25519_public_key(pem: str) -> Ed25519PublicKey:
    """Parse a PEM (SubjectPublicKeyInfo) Ed25519 public key; ValueError if it is not one."""
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("public_key is not an Ed25519 key")
    return key


def verify_ed25519_b64(public_key: Ed25519PublicKey, payload: str | bytes, signature_b64: str) -> bool:
    """True when `signature_b64` (standard base64) is a valid Ed25519 signature of payload."""
    data = payload.encode() if isinstance(payload, str) else payload
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(raw, data)
    except InvalidSignature:
        return False
    return True
