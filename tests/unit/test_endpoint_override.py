"""The endpoint override on all ten exchanges' URL structures: URLs move, signatures do not change."""

from __future__ import annotations

from typing import Any

import pytest

from tradewarden.adapters.exchanges.client import build_client
from tradewarden.adapters.exchanges.endpoint import apply_endpoint_override, rewrite_url, validate_endpoint
from tradewarden.adapters.vault.secret import Secret

ENDPOINT = "http://127.0.0.1:8765"
CREDS = {
    "apiKey": Secret("AKoverride0123456789"),
    "secret": Secret("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"),
    "password": Secret("override-pass-1"),
    "uid": Secret("123456"),
}
# (ccxt id, a signed implicit method, its params): the ten exchanges, with both Binance and KuCoin APIs.
SIGNED_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("binance", "sapi_get_account_apirestrictions", {}),
    ("binanceusdm", "fapiprivatev2_get_balance", {}),
    ("kucoin", "private_get_user_api_key", {}),
    ("kucoinfutures", "futuresprivate_get_account_overview", {"currency": "USDT"}),
    ("mexc", "spot_private_get_account", {}),
    ("okx", "private_get_account_config", {}),
    ("bybit", "private_get_v5_user_query_api", {}),
    ("bitget", "private_spot_get_v2_spot_account_info", {}),
    ("gate", "private_account_get_detail", {}),
    ("htx", "private_get_account_accounts", {}),
    ("bingx", "spot_v1_private_get_account_balance", {}),
    ("coinbase", "v3_private_get_brokerage_key_permissions", {}),
]


class Captured(Exception):
    """Raised by the fake transport once the request is built and signed."""

    def __init__(self, url: str, method: str, headers: dict[str, Any], body: Any) -> None:
        super().__init__(url)
        self.request = (url, method, dict(headers or {}), body)


def _freeze(client: Any) -> None:
    # Same clock for both clients, so every nonce and timestamp in the signature is the same.
    client.milliseconds = lambda: 1_700_000_000_123
    client.seconds = lambda: 1_700_000_000
    client.microseconds = lambda: 1_700_000_000_123_456
    client.nonce = lambda: 1_700_000_000_123
    client.uuid = lambda: "00000000-0000-4000-8000-000000000000"
    client.uuid22 = lambda *a: "0000000000000000000000"

    async def transport(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        raise Captured(url, method, headers, body)

    client.fetch = transport


async def _signed_request(ccxt_id: str, method: str, params: dict[str, Any], endpoint: str | None) -> tuple:
    client = build_client(ccxt_id, CREDS, endpoint)
    _freeze(client)
    try:
        with pytest.raises(Captured) as caught:
            await getattr(client, method)(params)
        return caught.value.request
    finally:
        await client.close()


def _urls(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [u for value in node.values() for u in _urls(value)]
    if isinstance(node, list):
        return [u for value in node for u in _urls(value)]
    return []


@pytest.mark.parametrize(("ccxt_id", "method", "params"), SIGNED_CALLS, ids=[c[0] for c in SIGNED_CALLS])
async def test_override_moves_the_url_and_keeps_the_signature(
    ccxt_id: str, method: str, params: dict[str, Any]
) -> None:
    plain = await _signed_request(ccxt_id, method, params, None)
    routed = await _signed_request(ccxt_id, method, params, ENDPOINT)
    assert plain[0].startswith("https://")
    assert routed[0] == ENDPOINT + "/" + plain[0][len("https://") :]
    assert routed[1:] == plain[1:]  # method, headers (signature included) and body unchanged


@pytest.mark.parametrize("ccxt_id", sorted({c[0] for c in SIGNED_CALLS}))
def test_every_api_url_is_rewritten_including_nested_and_templated(ccxt_id: str) -> None:
    import ccxt.async_support as ccxt_async

    client = getattr(ccxt_async, ccxt_id)()
    hostname = getattr(client, "hostname", None)
    before = [u.replace("{hostname}", hostname) if hostname else u for u in _urls(client.urls["api"])]
    apply_endpoint_override(client, ENDPOINT + "/")
    after = _urls(client.urls["api"])
    assert len(after) == len(before) > 0
    for old, new in zip(before, after, strict=True):
        if old.startswith(("https://", "http://", "wss://")):
            assert new == ENDPOINT + "/" + old.split("://", 1)[1]
            assert "{hostname}" not in new
    assert getattr(client, "hostname", None) == hostname  # hosts that sign the hostname keep the real one


def test_rewrite_url_and_validation() -> None:
    assert (
        rewrite_url("https://api.{hostname}/v5", "http://p:1", "bybit.com") == "http://p:1/api.bybit.com/v5"
    )
    assert rewrite_url("not a url", "http://p:1") == "not a url"
    assert validate_endpoint("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    for bad in ("ftp://x", "127.0.0.1:8765", "http://", "http://a b"):
        with pytest.raises(ValueError, match="not an http"):
            validate_endpoint(bad)
