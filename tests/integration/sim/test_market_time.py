"""One market that moves with the simulator clock: history, agreement, replay, volatility, reacting depth.

All through real ccxt over HTTP against the simulator, on a virtual clock driven by `/_sim/clock`.
"""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from pathlib import Path
from typing import Any

import aiohttp

from tradewarden.sim import SimServer

from .conftest import MakeClient, MakeKey, admin, admin_get

MINUTE = 60_000
DAY = 1440 * MINUTE
T1 = 1_767_225_600_000  # 2026-01-01T00:00Z
# The project's copy of the shared data set (licence note in tests/data/candles/SOURCES.md).
REPLAY = Path(__file__).resolve().parents[2] / "data" / "candles" / "btc-perp-1m-2022-01.csv"


def _file_closes(path: Path) -> tuple[int, list[float]]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return int(rows[0]["timestamp"]), [float(r["close"]) for r in rows]


async def _page(ex: Any, symbol: str, since: int, count: int, limit: int) -> list[list[float]]:
    """`count` one-minute candles from `since`, paging with ccxt's since/limit (bounded loop)."""
    out: list[list[float]] = []
    cursor = since
    for _ in range(count // limit + 10):
        rows = await ex.fetch_ohlcv(symbol, "1m", since=cursor, limit=limit)
        if not rows:
            break
        out.extend(rows)
        cursor = int(rows[-1][0]) + MINUTE
        if len(out) >= count:
            break
    return out[:count]


async def test_thirty_days_on_three_venues_agree_and_follow_the_replay(
    sim: SimServer, ccxt_client: MakeClient
) -> None:
    start, file_closes = _file_closes(REPLAY)
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": start, "speed": 0})
    result = await admin(sim.url, "POST", "/_sim/market", {"symbol": "BTC/USDT", "replay": str(REPLAY)})
    assert result["binance"]["rows"] == len(file_closes)
    for _ in range(30):  # a month of market, a day at a time
        await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": DAY})
    assert (await admin_get(sim.url, "/_sim/clock"))["now"] == start + 30 * DAY
    count = 30 * 1440
    series: dict[str, list[list[float]]] = {}
    spreads: dict[str, float] = {}
    for venue, limit in (("binance", 1000), ("okx", 300), ("kucoin", 1500)):
        ex = ccxt_client(venue)
        series[venue] = await _page(ex, "BTC/USDT", start, count, limit)
        book = await ex.fetch_order_book("BTC/USDT")
        bid, ask = book["bids"][0][0], book["asks"][0][0]
        spreads[venue] = (ask - bid) / ((ask + bid) / 2)
    expected_times = [start + i * MINUTE for i in range(count)]
    for venue, rows in series.items():
        assert [int(r[0]) for r in rows] == expected_times, f"{venue}: gaps or duplicates"
        assert all(r[3] <= min(r[1], r[4]) and r[2] >= max(r[1], r[4]) for r in rows), venue
        assert 0 < spreads[venue] < 0.001, venue
        # every minute's close is the file's close, within the venue's own spread
        off = [abs(r[4] - file_closes[i]) / file_closes[i] for i, r in enumerate(rows)]
        assert max(off) <= spreads[venue], (venue, max(off), spreads[venue])
    for i in range(count):
        closes = [series[v][i][4] for v in series]
        assert max(closes) / min(closes) - 1 < 0.002, (i, closes)
    status = (await admin_get(sim.url, "/_sim/market"))["replays"]["BTC"]
    assert status["ended"] is False and status["row"] == count  # the file has more rows than 30 days


async def test_history_covers_thirty_days_on_every_venue_and_pair(
    sim: SimServer, ccxt_client: MakeClient
) -> None:
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1, "speed": 0})
    since = T1 - 30 * DAY
    for venue in ("binance", "okx", "kucoin", "mexc", "bybit"):
        ex = ccxt_client(venue)
        await ex.load_markets()
        for symbol in ("BTC/USDT", "ETH/USDT", "XRP/USDT", "ETH/BTC"):
            rows = await ex.fetch_ohlcv(symbol, "1m", since=since, limit=100)
            assert [int(r[0]) for r in rows] == [since + i * MINUTE for i in range(100)], (venue, symbol)
            assert all(r[5] > 0 for r in rows), (venue, symbol)


PAGED = (
    ("binance", "BTC/USDT"),
    ("binance", "BTC/USDT:USDT"),
    ("okx", "BTC/USDT"),
    ("okx", "BTC/USDT:USDT"),
    ("kucoin", "BTC/USDT"),
    ("kucoinfutures", "BTC/USDT:USDT"),
    ("mexc", "BTC/USDT"),
    ("mexc", "BTC/USDT:USDT"),
    ("bybit", "BTC/USDT"),
    ("bybit", "BTC/USDT:USDT"),
)


async def test_every_candle_endpoint_pages_forward_with_since(
    sim: SimServer, ccxt_client: MakeClient
) -> None:
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1 + 30_000, "speed": 0})
    for timeframe, ms in (("1m", MINUTE), ("5m", 5 * MINUTE)):
        since = T1 - 597 * ms  # three pages of 200 end at the live bucket
        for exchange_id, symbol in PAGED:
            ex = ccxt_client(exchange_id)
            rows: list[list[float]] = []
            cursor = since
            for _ in range(3):
                page = await ex.fetch_ohlcv(symbol, timeframe, since=cursor, limit=200)
                assert len(page) == min(200, (T1 - cursor) // ms + 1), (exchange_id, symbol, timeframe)
                rows += page
                cursor = int(page[-1][0]) + ms
            want = [since + i * ms for i in range(598)]
            assert [int(r[0]) for r in rows] == want, (exchange_id, symbol, timeframe)


async def test_pairs_are_one_market_across_venues(sim: SimServer, ccxt_client: MakeClient) -> None:
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1 + 12_345, "speed": 0})
    last: dict[str, dict[str, float]] = {}
    for venue in ("binance", "okx", "kucoin", "mexc", "bybit"):
        ex = ccxt_client(venue)
        tickers = await ex.fetch_tickers(["BTC/USDT", "ETH/USDT", "ETH/BTC"])
        last[venue] = {s: t["last"] for s, t in tickers.items() if s in ("BTC/USDT", "ETH/USDT", "ETH/BTC")}
        implied = last[venue]["ETH/USDT"] / last[venue]["BTC/USDT"]
        assert abs(last[venue]["ETH/BTC"] / implied - 1) < 0.0006, venue  # cross = ETH / BTC, a few bp
    for symbol in ("BTC/USDT", "ETH/USDT", "ETH/BTC"):
        quotes = [last[v][symbol] for v in last]
        assert max(quotes) / min(quotes) - 1 < 0.0005, (symbol, quotes)  # venues agree within 5 bp


async def _minute_returns(
    url: str, ex: Any, session: aiohttp.ClientSession, polls_per_s: int, window_ms: int
) -> tuple[list[float], int]:
    """Replay one virtual hour from T1: polls at `polls_per_s` in the last `window_ms` of each minute."""
    poll_url = url + "/api.binance.com/api/v3/ticker/price?symbol=BTCUSDT"

    async def clock(body: dict[str, Any]) -> None:
        async with session.post(url + "/_sim/clock", json=body) as r:
            assert r.status == 200

    await clock({"mode": "virtual", "start": T1, "speed": 0})
    step = 1000 // polls_per_s
    closes = [(await ex.fetch_ticker("BTC/USDT"))["last"]]
    polls = 0
    for _minute in range(60):
        await clock({"advance_ms": MINUTE - window_ms})
        for _ in range(window_ms // step):
            await clock({"advance_ms": step})
            async with session.get(poll_url) as r:
                assert r.status == 200
                polls += 1
        closes.append((await ex.fetch_ticker("BTC/USDT"))["last"])
    return [math.log(b / a) for a, b in itertools.pairwise(closes)], polls


async def test_polling_speed_does_not_change_volatility(sim: SimServer, ccxt_client: MakeClient) -> None:
    ex = ccxt_client("binance")
    await ex.load_markets()
    async with aiohttp.ClientSession() as session:
        # the same virtual hour twice: once polling 1/s over the last second of every minute, once
        # polling 50/s over its last half second (25 requests a minute; 1,500 in the hour)
        slow, slow_polls = await _minute_returns(sim.url, ex, session, 1, 1000)
        fast, fast_polls = await _minute_returns(sim.url, ex, session, 50, 500)
    assert slow_polls == 60 and fast_polls == 60 * 25
    sd_slow, sd_fast = statistics.pstdev(slow), statistics.pstdev(fast)
    assert 0.00005 < sd_slow < 0.005  # the market does move (a few bp a minute)
    assert abs(sd_fast / sd_slow - 1) < 0.10
    assert slow == fast  # prices are a function of time alone


async def test_large_orders_slip_and_dent_the_book(
    sim: SimServer, ccxt_client: MakeClient, make_key: MakeKey, tmp_path: Path
) -> None:
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1, "speed": 0})
    flat = tmp_path / "flat.csv"  # a constant price, so fills compare by price alone
    flat.write_text("timestamp,open,high,low,close,volume\n0,60000,60000,60000,60000,1\n")
    await admin(sim.url, "POST", "/_sim/market", {"symbol": "BTC/USDT", "replay": str(flat)})
    shape = await admin(sim.url, "POST", "/_sim/market", {"venue": "binance", "recovery_ms": 5000})
    assert shape["binance"]["recovery_ms"] == 5000
    key = await make_key("binance", balances={"USDT": "20000000", "BTC": "0"})
    ex = ccxt_client("binance", key)

    async def market_buy(multiple: int) -> tuple[float, float]:
        """Buy `multiple` x the best ask's size; returns (average fill price, best ask before)."""
        book = await ex.fetch_order_book("BTC/USDT", 5)
        ask, size = book["asks"][0]
        await ex.load_time_difference()  # the client follows the server's virtual time
        order = await ex.create_order(
            "BTC/USDT", "market", "buy", float(ex.amount_to_precision("BTC/USDT", size * multiple))
        )
        assert order["status"] == "closed"
        return float(order["average"]), float(ask)

    await ex.load_time_difference()
    await ex.load_markets()
    one, ask_one = await market_buy(1)
    assert one == ask_one  # the top level alone fills it
    await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": 10_000})  # fully refilled
    fresh = (await ex.fetch_order_book("BTC/USDT", 5))["asks"]
    big, ask_big = await market_buy(50)
    assert big > one and big > ask_big * 1.0005  # walked the book: over 5 bp of slippage
    await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": 1_000})  # inside the recovery time
    dented = (await ex.fetch_order_book("BTC/USDT", 5))["asks"]
    # a fifth of the recovery time later, the eaten levels hold about a fifth of their size
    assert sum(q for _, q in dented) < 0.5 * sum(q for _, q in fresh)
    again, _ = await market_buy(50)
    assert again > big
    await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": 10_000})  # past the recovery time
    after, ask_after = await market_buy(50)
    assert after < again and ask_after == ask_big


async def test_replay_speed_maps_file_rows_onto_simulator_time(
    sim: SimServer, ccxt_client: MakeClient, tmp_path: Path
) -> None:
    rows = [
        (100.0, 104.0, 99.0, 103.0),
        (103.0, 103.5, 97.0, 98.0),
        (98.0, 99.0, 95.0, 96.0),
        (96.0, 96.0, 90.0, 91.0),
    ]
    csv_file = tmp_path / "eth.csv"
    csv_file.write_text(
        "timestamp,open,high,low,close,volume\n"
        + "".join(f"{i * MINUTE},{o},{h},{lo},{c},1\n" for i, (o, h, lo, c) in enumerate(rows))
    )
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1, "speed": 0})
    await admin(sim.url, "POST", "/_sim/market", {"symbol": "ETH/USDT", "replay": str(csv_file), "speed": 2})
    ex = ccxt_client("binance")

    def near(got: float, want: float) -> bool:
        return abs(got - want) <= want * 0.0002  # the venue's basis

    for offset, want in ((0, 100.0), (30_000, 103.0), (60_000, 98.0), (90_000, 96.0)):  # a row each 30 s
        await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1 + offset, "speed": 0})
        assert near((await ex.fetch_ticker("ETH/USDT"))["last"], want), offset
    await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1 + 5 * MINUTE, "speed": 0})
    candles = await ex.fetch_ohlcv("ETH/USDT", "1m", since=T1, limit=3)
    (t0, o0, h0, l0, c0, _), (_, o1, h1, l1, c1, _), (_, o2, h2, l2, c2, _) = candles
    assert t0 == T1 and near(o0, 100) and near(h0, 104) and near(l0, 97) and near(c0, 98)  # rows 0-1
    assert near(o1, 98) and near(h1, 99) and near(l1, 90) and near(c1, 91)  # rows 2-3
    assert near(o2, 91) and near(h2, 91) and near(l2, 91) and near(c2, 91)  # ended: holds the last close
    status = (await admin_get(sim.url, "/_sim/market"))["replays"]["ETH"]
    assert status["ended"] is True and status["holding"] == 91.0


async def test_clock_admin_contract(sim: SimServer, ccxt_client: MakeClient) -> None:
    real = await admin_get(sim.url, "/_sim/clock")
    assert real["mode"] == "real"
    got = await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1, "speed": 0})
    assert got["mode"] == "virtual" and got["now"] == T1
    assert (await admin(sim.url, "POST", "/_sim/clock", {"advance_ms": 1500}))["now"] == T1 + 1500
    ex = ccxt_client("binance")
    assert await ex.fetch_time() == T1 + 1500  # venues serve the shared clock
    await admin(sim.url, "POST", "/_sim/venue", {"venue": "binance", "clock_skew_ms": 250})
    assert await ex.fetch_time() == T1 + 1750  # the venue's skew stays an offset on top
    running = await admin(sim.url, "POST", "/_sim/clock", {"mode": "virtual", "start": T1, "speed": 1000})
    assert running["now"] >= T1
    back = await admin(sim.url, "POST", "/_sim/clock", {"mode": "real"})
    assert back["mode"] == "real" and abs(back["now"] - real["now"]) < 60_000
    async with aiohttp.ClientSession() as s:
        for bad in (
            {"advance_ms": 10},
            {"mode": "sideways"},
            {"mode": "virtual", "start": T1, "speed": -1},
            {},
        ):
            async with s.post(sim.url + "/_sim/clock", json=bad) as r:
                assert r.status == 400, bad
                assert "error" in await r.json()
    assert (await admin_get(sim.url, "/_sim/clock"))["mode"] == "real"  # refused calls changed nothing
