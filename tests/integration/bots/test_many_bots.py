"""Issue 15, Done-when: 100 paper bots (DCA and grid mixed) on 20 markets of three venues run for simulated
hours in one process on the simulator's virtual clock: no crash, no order refused for a reason the bot
should have known, and the store's orders, fills and the bots' states agree.

The runner steps once per simulated minute: the test advances the simulator's clock by a minute, then
runs one round. `TW_BOT_HOURS` sets the simulated hours (default 1; the long reliability configuration,
`TW_RELIABILITY=long`, runs the issue's 5). Every 20 minutes one asset is pushed down 2.5 % (and later
back up), so DCA add-ons, take profits and grid refills all happen within the hours.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.bots.conftest import DCA_SETTINGS, BotWorld, runner_for
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.market.budget import BudgetLimits
from tradewarden.adapters.store.models import BotEventRow, BotRow, FillRow, OrderRow
from tradewarden.services.bots import service

LONG = os.environ.get("TW_RELIABILITY") == "long"
HOURS = float(os.environ.get("TW_BOT_HOURS", "5" if LONG else "1"))
MINUTE_MS = 60_000
BOTS = 100
USDT_PAIRS = ("BTC", "ETH", "BNB", "SOL", "XRP", "DOGE", "ADA", "LTC")
# 20 markets: the simulator lists these 8 USDT pairs on every venue; one connection per venue.
MARKETS: tuple[tuple[str, str], ...] = (
    *(("mexc", f"{b}/USDT") for b in USDT_PAIRS),
    *(("kucoin", f"{b}/USDT") for b in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA")),
    *(("binance", f"{b}/USDT") for b in ("BTC", "ETH", "BNB", "SOL", "LTC", "ADA")),
)
VENUES = ("mexc", "kucoin", "binance")
# A tighter DCA than the design example, so groups open, add on and close within simulated hours.
TIGHT_DCA = {
    **DCA_SETTINGS,
    "base_order": "40",
    "addon_order": "30",
    "addon_deviation_pct": "0.4",
    "take_profit_pct": "0.3",
    "stop_loss_pct": "4",
}


def sim_clock(world: BotWorld, body: dict[str, Any]) -> int:
    """Set or step the simulator's clock; its time now (ms)."""
    got: dict[str, Any] = world.admin.call("POST", "/_sim/clock", body)
    return int(got["now"])


@pytest.fixture
def virtual(world: BotWorld) -> Iterator[int]:
    """One connection per venue (tested on real time), then the simulator on a frozen virtual clock
    starting now (back to real time after the test)."""
    for venue in VENUES:
        world.connect(venue, venue)
    start = sim_clock(world, {"mode": "virtual", "start": int(time.time() * 1000), "speed": 0})
    try:
        yield start
    finally:
        sim_clock(world, {"mode": "real"})


def grid_settings(i: int, price: Decimal) -> dict[str, str]:
    """A grid around `price`: width 0.6-1.8 %, 6-12 levels, both spacings, trailing on some."""
    width = Decimal("0.006") * (1 + i % 3)
    return {
        "lower": str((price * (1 - width)).quantize(Decimal("1e-6"))),
        "upper": str((price * (1 + width)).quantize(Decimal("1e-6"))),
        "levels": str(6 + 2 * (i % 4)),
        "spacing": "geometric" if i % 2 else "arithmetic",
        "order_amount": str(12 + 3 * (i % 5)),
        "trailing": "on" if i % 3 == 0 else "off",
    }


async def start_prices(hub: MarketHub) -> dict[tuple[str, str], Decimal]:
    """The last price of every market, read through the hub."""
    out: dict[tuple[str, str], Decimal] = {}
    for venue, pair in MARKETS:
        ticker = await hub.ticker(venue, pair)
        out[(venue, pair)] = Decimal(str(ticker["last"]))
    return out


def make_bots(world: BotWorld, prices: dict[tuple[str, str], Decimal]) -> dict[str, tuple[str, str, str]]:
    """100 bots over the 20 markets, DCA and grid alternating; name -> (strategy, venue, pair)."""
    made: dict[str, tuple[str, str, str]] = {}
    for i in range(BOTS):
        venue, pair = MARKETS[i % len(MARKETS)]
        if i % 2 == 0:
            settings = DCA_SETTINGS if i % 4 == 0 else TIGHT_DCA
            world.bot(f"dca{i:03d}", venue, pairs=(pair,), settings=settings)
            made[f"dca{i:03d}"] = ("dca", venue, pair)
        else:
            world.bot(
                f"grid{i:03d}",
                venue,
                strategy="grid",
                pairs=(pair,),
                settings=grid_settings(i, prices[(venue, pair)]),
            )
            made[f"grid{i:03d}"] = ("grid", venue, pair)
    return made


def push(world: BotWorld, venue: str, pair: str, price: Decimal) -> None:
    """Move the asset to `price` on `venue` from now on (every venue follows the shared asset)."""
    world.admin.call("POST", "/_sim/market", {"venue": venue, "symbol": pair, "price": str(price)})


class SimTime:
    """The simulator's virtual time as the test last set it: the hub's clock, so its caches (the
    production TTLs) last while the simulated clock stands still and expire when it moves."""

    def __init__(self, world: BotWorld) -> None:
        self.world = world
        self.now_ms = sim_clock(world, {"advance_ms": 0})

    def advance(self, ms: int) -> None:
        """Move the simulator (and this clock) forward."""
        self.now_ms = sim_clock(self.world, {"advance_ms": ms})

    def seconds(self) -> float:
        """Virtual seconds (the hub's clock)."""
        return self.now_ms / 1000


async def run_hours(world: BotWorld, hours: float) -> dict[str, Any]:
    """Create the bots, then one runner round per simulated minute; what the run saw."""
    clock = SimTime(world)
    # The hub's weight budgets count wall seconds, but a simulated minute passes here in a second or two:
    # at MEXC's ccxt costs (25 a ticker) its real budget would stretch each round to ~10 s, so MEXC's is
    # raised; the simulator still enforces each venue's own limits (a 429 would fail the run).
    # (KuCoin's public pool, 2000 weight per 30 s, is the hub's own default: budget.DOCUMENTED_PUBLIC.)
    limits = {"mexc": BudgetLimits(limit=1_000_000)}
    hub = MarketHub(HubConfig(default_endpoint=world.sim.url, limits=limits), clock=clock.seconds)
    try:
        prices = await start_prices(hub)
        bots = make_bots(world, prices)
        runner = runner_for(world, hub, concurrency=16)
        minutes = int(hours * 60)
        started = time.perf_counter()
        seconds: list[float] = []
        for minute in range(minutes):
            if minute % 20 == 10:  # a dip on one market, recovered 10 minutes later
                venue, pair = MARKETS[(minute // 20) % len(MARKETS)]
                ticker = await hub.ticker(venue, pair)
                push(world, venue, pair, Decimal(str(ticker["last"])) * Decimal("0.975"))
            elif minute % 20 == 0 and minute:
                venue, pair = MARKETS[(minute // 20 - 1) % len(MARKETS)]
                ticker = await hub.ticker(venue, pair)
                push(world, venue, pair, Decimal(str(ticker["last"])) * Decimal("1.03"))
            clock.advance(MINUTE_MS)
            stats = await runner.round()
            seconds.append(stats.seconds)
        return {
            "bots": bots,
            "errors": dict(runner.config.errors),
            "rounds": runner.rounds,
            "held": runner.last.held,
            "wall_s": time.perf_counter() - started,
            "round_s": seconds,
            "latencies": runner.latencies_ms(),
            "hub": hub.snapshot(),
        }
    finally:
        await hub.close()


def order_requests_refused(world: BotWorld, since: int) -> list[dict[str, Any]]:
    """Requests on order paths the simulator answered with an error, on every venue, from `since` (ms).

    The simulator is shared by the session: earlier tests (the live fault runs) leave refused order
    requests in its log, stamped before this test froze the clock at `since`."""
    bad: list[dict[str, Any]] = []
    for venue in VENUES:
        rows: list[dict[str, Any]] = world.admin.call("GET", f"/_sim/requests?venue={venue}")
        bad += [
            r
            for r in rows
            if int(r["ts"]) >= since and "order" in r["path"].lower() and int(r["status"]) >= 400
        ]
    return bad


@pytest.mark.timeout(3600)
def test_hundred_paper_bots_run_simulated_hours(
    world: BotWorld, virtual: int, caplog: pytest.LogCaptureFixture
) -> None:
    """100 paper bots for HOURS simulated hours: no crash, no refusal, store and states agree."""
    caplog.set_level(logging.DEBUG, logger="tradewarden.services.bots.runner")  # failures with tracebacks
    got = asyncio.run(run_hours(world, HOURS))
    bots: dict[str, tuple[str, str, str]] = got["bots"]
    lat = sorted(got["latencies"])
    rounds = got["round_s"]
    print(
        f"\n[many bots] {len(bots)} bots, {got['rounds']} rounds ({HOURS} simulated h) in "
        f"{got['wall_s']:.1f} s wall; first round {rounds[0]:.1f} s, "
        f"then max {max(rounds[1:], default=0):.2f} s;"
        f" step p50 {lat[len(lat) // 2]:.1f} ms p99 {lat[int(len(lat) * 0.99)]:.1f} ms"
    )
    for line in got["hub"].kinds:
        print(f"  hub {line.exchange} {line.kind}: upstream {line.upstream}")
    for budget in got["hub"].budgets:
        print(f"  budget {budget}")

    failures = [r.exc_text or r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert got["errors"] == {}, (got["errors"], failures[:3])
    # A 429 on a public read is retried by the hub (seen once on KuCoin: the hub's budget counts wall
    # seconds, the simulator's window virtual ones); none may reach the runner as an error (above).
    print(f"  hub answers 429/418 (retried): {dict(got['hub'].rate_limited)}")
    assert got["held"] == BOTS
    assert got["rounds"] == int(HOURS * 60)

    with world.app.store.session() as session:
        rows = {r.name: r for r in session.scalars(select(BotRow))}
        keys = {service.bot_key(r.id): r.name for r in rows.values()}
        orders = session.scalars(select(OrderRow).where(OrderRow.bot.in_(list(keys)))).all()
        fills = session.execute(
            select(FillRow, OrderRow).join(OrderRow, FillRow.order_id == OrderRow.id)
        ).all()
        events = session.scalars(select(BotEventRow)).all()
        states = {name: json.loads(r.state_json) for name, r in rows.items()}
        statuses = {name: (r.status, r.status_reason) for name, r in rows.items()}
        by_id = {r.id: r.name for r in rows.values()}
        event_kinds = Counter((by_id[e.bot_id], e.kind) for e in events)
        order_rows = [
            (
                keys[o.bot or ""],
                o.tag or "",
                o.client_order_id,
                o.status,
                o.outcome,
                o.error,
                o.side,
                o.filled,
            )
            for o in orders
        ]
        fill_count = Counter(keys[o.bot] for _f, o in fills if o.bot in keys)

    # no crash: every bot still running, nothing paused or failed
    assert all(s == ("running", None) or s[0] == "running" for s in statuses.values()), {
        n: s for n, s in statuses.items() if s[0] != "running"
    }
    # no refusal of any kind: neither the guard (bot events) nor the fill model (rejected orders)
    refused = [(n, k) for (n, k), c in event_kinds.items() if k == "refused" for _ in range(c)]
    assert refused == [], refused
    rejected = [o for o in order_rows if o[3] == "rejected"]
    assert rejected == [], rejected
    # paper bots never send an order to the venue; nothing on an order path was answered with an error
    assert order_requests_refused(world, virtual) == []

    # every order exactly once: tags and client order ids unique per bot
    per_bot_tags = Counter((o[0], o[1]) for o in order_rows)
    assert [k for k, c in per_bot_tags.items() if c > 1] == []
    assert len({o[2] for o in order_rows}) == len(order_rows)
    assert all(o[1] for o in order_rows), "an order of a bot without its strategy tag"

    # no group lost: each DCA bot's groups in its state = group_opened events = its base orders that filled
    for name, (strategy, _venue, pair) in bots.items():
        figures = states[name]["figures"][pair]
        if strategy == "dca":
            bases = [o for o in order_rows if o[0] == name and "-base-" in o[1] and o[7] > 0]
            assert figures["groups"] == event_kinds[(name, "group_opened")] == len(bases), (
                name,
                figures["groups"],
                event_kinds[(name, "group_opened")],
                len(bases),
            )
            closes = event_kinds[(name, "group_closed")]
            assert closes <= figures["groups"] <= closes + 1, (name, figures, closes)
        else:
            sells = [o for o in order_rows if o[0] == name and o[6] == "sell" and o[7] > 0]
            assert figures["trades"] >= len([s for s in sells if s[3] == "closed"]), (name, figures)
        # the state's fill cursor has seen every fill of the bot
        assert states[name]["fill_cursor"] >= 0

    # the run did something: fills on most bots, groups closed at a profit, grid round trips
    traded = sum(1 for name in bots if fill_count[name] > 0)
    assert traded >= BOTS * 0.8, f"only {traded} of {BOTS} bots traded"
    total = Counter(k for (_n, k), c in event_kinds.items() for _ in range(c))
    assert total["group_opened"] >= 50 and total["take_profit"] >= 5, total
    assert sum(states[n]["figures"][p]["trades"] for n, (s, _v, p) in bots.items() if s == "grid") > 0
