"""Binance authentication through real ccxt: signatures (HMAC, Ed25519), clock, key state, IP, permissions."""

from __future__ import annotations

import re
import time
from typing import Any

import aiohttp
import ccxt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from tradewarden.sim import SimServer
from tradewarden.sim.signing import verify_hmac_hex

from .conftest import MakeClient, MakeKey, admin, admin_get, error_code

# Binance's documented HMAC example (binance-spot-api-docs, "SIGNED endpoint examples")
KAT_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
KAT_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
KAT_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
KAT_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def tamper(ex: Any) -> None:
    """After ccxt signs, nudge the timestamp by 1 ms: same request, one byte changed."""
    original = ex.sign

    def sign(*args: Any, **kwargs: Any) -> dict[str, Any]:
        request: dict[str, Any] = original(*args, **kwargs)
        for field in ("url", "body"):
            if request.get(field):
                request[field] = re.sub(
                    r"timestamp=(\d+)", lambda m: f"timestamp={int(m.group(1)) - 1}", request[field]
                )
        return request

    ex.sign = sign


def test_known_answer_vector_against_sim_verifier() -> None:
    assert verify_hmac_hex(KAT_SECRET, KAT_PAYLOAD, KAT_SIGNATURE)
    assert verify_hmac_hex(KAT_SECRET, KAT_PAYLOAD, KAT_SIGNATURE.upper())  # hex case does not matter
    assert not verify_hmac_hex(KAT_SECRET, KAT_PAYLOAD.replace("quantity=1", "quantity=2"), KAT_SIGNATURE)
    assert not verify_hmac_hex(KAT_SECRET[:-1] + "k", KAT_PAYLOAD, KAT_SIGNATURE)


async def test_known_answer_vector_end_to_end(sim: SimServer) -> None:
    key = sim.ctx.keys.create("binance", ["read", "spot_trade"], api_key=KAT_API_KEY, secret=KAT_SECRET)
    sim.venues["binance"].on_key_created(key, None)
    # put the venue clock at the example's timestamp so the 2017 request is fresh
    skew = 1499827319559 + 50 - int(time.time() * 1000)
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "clock_skew_ms": skew})
    url = sim.url + "/api.binance.com/api/v3/order"
    headers = {"X-MBX-APIKEY": KAT_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=f"{KAT_PAYLOAD}&signature={KAT_SIGNATURE}", headers=headers) as r:
            body = await r.json()
        # the signature is accepted; the order then fails only because LTCBTC is not listed here
        assert (r.status, body["code"]) == (400, -1121)
        tampered = KAT_PAYLOAD.replace("quantity=1", "quantity=2")
        async with s.post(url, data=f"{tampered}&signature={KAT_SIGNATURE}", headers=headers) as r:
            body = await r.json()
        assert (r.status, body["code"], body["msg"]) == (
            400,
            -1022,
            "Signature for this request is not valid.",
        )


async def test_ed25519_key(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    private = Ed25519PrivateKey.generate()
    public_pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    private_pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    key = await make_key(key_type="ed25519", public_key=public_pem)
    assert "secret" not in key  # the simulator never holds an Ed25519 private key
    ex = ccxt_client("binance", {"apiKey": key["apiKey"], "secret": private_pem})
    await ex.load_markets()
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000
    order = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 30000)  # POST body signed too
    assert order["status"] == "open"
    bad = ccxt_client("binance", {"apiKey": key["apiKey"], "secret": private_pem})
    tamper(bad)
    with pytest.raises(ccxt.AuthenticationError) as info:
        await bad.fetch_balance()
    assert error_code(info.value, bad) == -1022
    other = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    wrong = ccxt_client("binance", {"apiKey": key["apiKey"], "secret": other.decode()})
    with pytest.raises(ccxt.AuthenticationError) as info:
        await wrong.fetch_balance()
    assert error_code(info.value, wrong) == -1022


async def test_wrong_secret(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", {**key, "secret": key["secret"][::-1]})
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.fetch_balance()
    assert error_code(info.value, ex) == -1022


async def test_tampered_query(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    tamper(ex)
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.fetch_balance()
    assert error_code(info.value, ex) == -1022


async def test_stale_and_future_timestamps(
    sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient
) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    ex.options["timeDifference"] = 70_000  # client clock 70 s behind: outside recvWindow
    with pytest.raises(ccxt.InvalidNonce) as info:
        await ex.fetch_balance()
    assert error_code(info.value, ex) == -1021 and "recvWindow" in str(info.value)
    # server clock 5 s behind the client: the request is "ahead of the server's time"
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "clock_skew_ms": -5_000})
    ex2 = ccxt_client("binance", key)
    with pytest.raises(ccxt.InvalidNonce) as info:
        await ex2.fetch_balance()
    assert error_code(info.value, ex2) == -1021 and "ahead" in str(info.value)
    assert abs(await ex2.fetch_time() - (ex2.milliseconds() - 5_000)) < 2_000
    ex2.options["timeDifference"] = 5_000  # what adjustForTimeDifference would learn
    assert (await ex2.fetch_balance())["USDT"]["free"] == 10000


async def test_revoked_key(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    assert (await ex.fetch_balance())["USDT"]["free"] == 10000
    await admin(sim.url, "DELETE", f"/_sim/keys/{key['apiKey']}")
    fresh = ccxt_client("binance", key)
    with pytest.raises(ccxt.AuthenticationError) as info:
        await fresh.fetch_balance()
    assert error_code(info.value, fresh) == -2015
    # ccxt turns -2015 into a retryable DDoSProtection once the client has authenticated before
    with pytest.raises(ccxt.DDoSProtection) as ddos:
        await ex.fetch_balance()
    assert error_code(ddos.value, ex) == -2015


async def test_expired_key(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(expires_ms=int(time.time() * 1000) - 1)
    ex = ccxt_client("binance", key)
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.fetch_balance()
    assert error_code(info.value, ex) == -2015


async def test_ip_not_whitelisted(sim: SimServer, make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(ip_whitelist=["10.9.9.9"])
    ex = ccxt_client("binance", key)
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.fetch_balance()
    assert error_code(info.value, ex) == -2015
    allowed = await make_key(ip_whitelist=["10.9.9.9", "127.0.0.0/8"])
    assert (await ccxt_client("binance", allowed).fetch_balance())["USDT"]["free"] == 10000
    rows = await admin_get(sim.url, "/_sim/requests", api_key=key["apiKey"])
    assert rows[-1]["status"] == 401 and rows[-1]["code"] == "-2015"


async def test_read_only_key_cannot_trade(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key(permissions=["read"])
    ex = ccxt_client("binance", key)
    await ex.load_markets()
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.create_order("BTC/USDT", "market", "buy", 0.001)
    assert error_code(info.value, ex) == -2015
    assert (await ex.fetch_balance())["BTC"]["free"] == 1  # nothing was bought


async def test_malformed_and_missing_key(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance", {"apiKey": "not-a-binance-key", "secret": "x" * 64})
    with pytest.raises(ccxt.AuthenticationError) as info:
        await ex.fetch_balance()
    assert error_code(info.value, ex) == -2014
    unknown = ccxt_client("binance", {"apiKey": "A" * 64, "secret": "x" * 64})
    with pytest.raises(ccxt.AuthenticationError) as info:
        await unknown.fetch_balance()
    assert error_code(info.value, unknown) == -2015
    async with aiohttp.ClientSession() as s, s.get(sim.url + "/api.binance.com/api/v3/account") as r:
        assert r.status == 401 and (await r.json())["code"] == -2014


async def test_recv_window_limits(make_key: MakeKey, ccxt_client: MakeClient) -> None:
    key = await make_key()
    ex = ccxt_client("binance", key)
    with pytest.raises(ccxt.ExchangeError) as info:
        await ex.fetch_balance({"recvWindow": 70_000})
    assert error_code(info.value, ex) == -1131
    ex.options["timeDifference"] = 40_000
    assert (await ex.fetch_balance({"recvWindow": 60_000}))["USDT"]["free"] == 10000
