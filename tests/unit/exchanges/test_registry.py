"""The registry agrees with DESIGN.md and with ccxt: ids exist, credentials match, futures options work."""

from __future__ import annotations

import ccxt
import pytest

from tradewarden.adapters.exchanges.catalog import required_credentials
from tradewarden.adapters.exchanges.registry import (
    REGISTRY,
    SETTING_KEYS,
    ExchangeInfo,
    ccxt_id_for,
    get_exchange,
)

TEN = ("binance", "kucoin", "mexc", "okx", "bybit", "bitget", "gate", "htx", "bingx", "coinbase")
TIERS = {"binance": 1, "kucoin": 1, "mexc": 1, "okx": 2, "bybit": 2} | {
    i: 3 for i in ("bitget", "gate", "htx", "bingx", "coinbase")
}

ENTRIES = [pytest.param(REGISTRY[i], id=i) for i in TEN]


def test_registry_holds_exactly_the_ten_exchanges() -> None:
    assert tuple(REGISTRY) == TEN


@pytest.mark.parametrize("info", ENTRIES)
def test_entry_id_and_tier_follow_design(info: ExchangeInfo) -> None:
    assert get_exchange(info.id) is info
    assert info.tier == TIERS[info.id]
    assert info.ccxt_ids["spot"] == info.id  # our id is ccxt's spot id


@pytest.mark.parametrize("info", ENTRIES)
def test_ccxt_ids_exist_in_ccxt(info: ExchangeInfo) -> None:
    assert set(info.ccxt_ids) == {"spot", "futures"}
    for ccxt_id in info.ccxt_ids.values():
        assert ccxt_id in ccxt.exchanges


@pytest.mark.parametrize("info", ENTRIES)
def test_credentials_match_ccxt_required_credentials(info: ExchangeInfo) -> None:
    for ccxt_id in set(info.ccxt_ids.values()):
        assert set(info.credentials) == required_credentials(ccxt_id), ccxt_id


@pytest.mark.parametrize("info", ENTRIES)
def test_futures_options_apply_to_the_futures_client(info: ExchangeInfo) -> None:
    separate_client = info.ccxt_ids["futures"] != info.ccxt_ids["spot"]
    # A separate futures class needs no options; a shared class must be switched to derivatives.
    assert bool(info.futures_options) is not separate_client
    client = getattr(ccxt, info.ccxt_ids["futures"])({"options": dict(info.futures_options)})
    for key, value in info.futures_options.items():
        assert client.options[key] == value
    if "defaultType" in info.futures_options:
        assert info.futures_options["defaultType"] in ("swap", "future")


@pytest.mark.parametrize("info", ENTRIES)
def test_setting_names_cover_every_setting_a_remedy_names(info: ExchangeInfo) -> None:
    assert set(info.setting_names) == set(SETTING_KEYS)
    assert all(name.strip() for name in info.setting_names.values())
    assert info.setting_names["withdraw"] != info.setting_names["spot_trade"]


@pytest.mark.parametrize("info", ENTRIES)
def test_guide_and_endpoint_are_filled(info: ExchangeInfo) -> None:
    assert info.permission_endpoint and info.permission_endpoint.startswith("GET /")
    assert info.guide.where and info.guide.enable and info.guide.disable and info.guide.ip_whitelist
    assert info.key_types and info.ip_whitelist


@pytest.mark.parametrize(("market", "key"), [("spot", "spot"), ("both", "spot"), ("futures", "futures")])
@pytest.mark.parametrize("info", ENTRIES)
def test_ccxt_id_for_market(info: ExchangeInfo, market: str, key: str) -> None:
    assert ccxt_id_for(info, market) == info.ccxt_ids[key]


def test_ccxt_id_for_separate_futures_classes() -> None:
    assert ccxt_id_for(REGISTRY["binance"], "futures") == "binanceusdm"
    assert ccxt_id_for(REGISTRY["kucoin"], "futures") == "kucoinfutures"


def test_ccxt_id_for_rejects_unknown_market() -> None:
    with pytest.raises(ValueError, match="margin"):
        ccxt_id_for(REGISTRY["okx"], "margin")


def test_unknown_exchange_is_none() -> None:
    assert get_exchange("kraken") is None


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        REGISTRY["kraken"] = REGISTRY["binance"]  # type: ignore[index]
    with pytest.raises(TypeError):
        REGISTRY["binance"].setting_names["read"] = "x"  # type: ignore[index]
