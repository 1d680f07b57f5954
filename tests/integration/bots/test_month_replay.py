"""Paper bots on the simulator replaying a month of BTC candles on the virtual clock, against the backtest.

Two paper DCA bots (Recovery Mode on and off) run January 2022 (`btc-perp-1m-2022-01.csv`, 44,640
minutes). The simulator replays the file on BTC/USDT; the test moves the virtual clock and runs one
runner round at each of a minute's four path points (open, the two extremes, the close), for every
minute whose range comes within `BAND` of a bot's trigger (its next add-on, take profit, stop, entry or
wake time, read from the store after each round). Minutes whose range stays strictly inside every
bot's trigger band are skipped: the engine contract says a strategy does nothing there, and the
backtest engine skips them the same way.

Agreement with the backtest engine on the same candles: the same groups, each with the same add-ons,
and every fill price within `PRICE_TOLERANCE`. Why not exact: the venue quotes the file's price times
its own basis (a few basis points), paper market orders fill on the venue's book (bid/ask, spread)
where the backtest fills at the trigger price itself, and the runner sees a minute's extreme where the
backtest stops exactly on the trigger inside the segment (the test steps just past each trigger,
by OVERSHOOT). Those offsets (about 0.1-0.2 % per exit and re-entry) compound: each new group's
first price, and so its add-on levels and take profit, sit a little off the backtest's, and after a
few groups a level one engine reaches the other may just miss. So the test requires the first
MATCHED_GROUPS groups to coincide (same add-ons, every fill within PRICE_TOLERANCE), the number of
groups over the run to differ by at most GROUP_SLACK, and the worst margin in use to agree within
MARGIN_TOLERANCE; and, when the backtest shows Recovery Mode using less margin at its worst (it does
over the month: 1,234 against 2,078), the paper bots must show it too.

`TW_REPLAY_DAYS`: 7 inside `make test`; `make reliability` runs the whole month (31).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.integration.bots.conftest import BotWorld, runner_for
from tradewarden.domain.fills import Fees
from tradewarden.domain.strategies import DCA
from tradewarden.domain.strategies.base import Context
from tradewarden.services.backtest.candles import load_candles
from tradewarden.services.backtest.engine import replay
from tradewarden.services.bots import service

DATA = Path(__file__).resolve().parents[2] / "data" / "candles" / "btc-perp-1m-2022-01.csv"
DAYS = int(os.environ.get("TW_REPLAY_DAYS", "7"))
BAND = Decimal("0.004")  # a minute is stepped when its range comes within 0.4 % of a trigger
PRICE_TOLERANCE = Decimal("0.005")  # a fill against the backtest's, while the groups coincide
MATCHED_GROUPS = 5  # at least the first five groups coincide exactly (roles) and within the tolerance
GROUP_SLACK = 3  # groups over the run may differ by this many (see the module docstring)
MARGIN_TOLERANCE = Decimal("0.02")  # worst margin in use against the backtest's
MINUTE = 60_000
SEGMENT_ENDS = (20_000, 40_000, 59_999)  # the simulator's turning points and close inside a minute
OVERSHOOT = Decimal("0.0005")  # step just past a trigger: the venue's basis is a few basis points
SETTINGS = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "5",
    "addon_deviation_pct": "2",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "1",
}
RECOVERY = {"deep_zone_from_pct": "9", "recovery_drawdown_pct": "3", "recovery_exit_pct": "0.3"}
MARGIN_LIMIT = Decimal(3000)


def _rows(days: int) -> list[tuple[Decimal, ...]]:
    """The file's minutes as their four path points (open, first extreme, second extreme, close)."""
    out: list[tuple[Decimal, ...]] = []
    with DATA.open() as handle:
        for r in csv.DictReader(handle):
            o, h, lo, c = (Decimal(r[k]) for k in ("open", "high", "low", "close"))
            out.append((o, lo, h, c) if c >= o else (o, h, lo, c))
    return out[: days * 1440]


def _triggers(world: BotWorld, names: list[str], t0: int) -> tuple[list[Decimal], list[Decimal], list[int]]:
    lows, highs, wakes = [], [], []
    for name in names:
        view = service.get(world.app, name)
        for fig in view.pair_states.values():
            t = fig["triggers"]
            if t["low"] is not None:
                lows.append(Decimal(t["low"]))
            if t["high"] is not None:
                highs.append(Decimal(t["high"]))
            if t["wake_ms"] is not None:
                wakes.append(int(t["wake_ms"]) - t0)
        if not view.pair_states:
            wakes.append(0)
    return lows, highs, wakes


def _touches(points: tuple[Decimal, ...], lows: list[Decimal], highs: list[Decimal]) -> bool:
    lo, hi = min(points), max(points)
    return any(lo <= x * (1 + BAND) for x in lows) or any(hi >= x * (1 - BAND) for x in highs)


def _next_event(
    points: tuple[Decimal, ...],
    after: int,
    lows: list[Decimal],
    highs: list[Decimal],
    wakes: list[int],
    base: int,
) -> int | None:
    """The first time in the minute after `after` (ms into it) when the path passes a trigger by
    OVERSHOOT, reaches a turning point, or a wake time comes; None past the minute's end."""
    times = [0, *SEGMENT_ENDS]
    candidates = [t for t in SEGMENT_ENDS if t > after]
    candidates += [w - base for w in wakes if after < w - base <= SEGMENT_ENDS[-1]]
    for k in range(3):
        a, b = points[k], points[k + 1]
        ta, tb = times[k], times[k + 1]
        if b == a:
            continue
        targets = [x * (1 - OVERSHOOT) for x in lows if b < a] + [x * (1 + OVERSHOOT) for x in highs if b > a]
        for target in targets:
            if min(a, b) <= target <= max(a, b):
                t = ta + int((tb - ta) * (target - a) / (b - a)) + 1
                if after < t <= tb:
                    candidates.append(t)
    return min(candidates) if candidates else None


async def _run(
    world: BotWorld, names: list[str], rows: list[tuple[Decimal, ...]], t0: int
) -> tuple[int, int]:
    hub = world.hub(virtual_clock=True)
    runner = runner_for(world, hub)
    now = t0
    stepped = 0
    try:
        for i, points in enumerate(rows):
            lows, highs, wakes = _triggers(world, names, t0)
            base = i * MINUTE
            if not _touches(points, lows, highs) and not any(base <= w < base + MINUTE for w in wakes):
                continue
            stepped += 1
            after = -1
            while (offset := _next_event(points, after, lows, highs, wakes, base)) is not None:
                target = t0 + base + offset
                world.admin.call("POST", "/_sim/clock", {"advance_ms": target - now})
                now, after = target, offset
                await runner.round()
                lows, highs, wakes = _triggers(world, names, t0)
        assert runner.config.errors == {}, runner.config.errors
        return stepped, runner.rounds
    finally:
        await hub.close()


def _groups_of_bot(world: BotWorld, name: str) -> dict[int, list[tuple[str, Decimal]]]:
    groups: dict[int, list[tuple[str, Decimal]]] = {}
    for order, _mode in reversed(service.orders(world.app, name)):
        assert order.status == "closed", (order.tag, order.status, order.error)
        tag = (order.tag or "").split("|", 1)[1]
        _, group, role, _seq = tag.split("-")
        assert order.average is not None
        groups.setdefault(int(group[1:]), []).append((role, order.average))
    return groups


def _groups_of_backtest(
    recovery: bool, fees: Fees, days: int
) -> tuple[dict[int, list[tuple[str, Decimal]]], Any]:
    candles = load_candles(DATA)
    candles = candles.slice(0, min(days * 1440, len(candles)))
    values = {**SETTINGS, **(RECOVERY if recovery else {})}
    context = Context(margin_limit=MARGIN_LIMIT, recovery=recovery, fees=fees)
    settings = DCA.parse(values, context)
    result = replay(DCA, settings, candles, fees)
    groups: dict[int, list[tuple[str, Decimal]]] = {}
    for fill in result.fills:
        _, group, role, _seq = fill.tag.split("-")
        groups.setdefault(int(group[1:]), []).append((role, fill.price))
    return groups, result


def test_month_of_paper_dca_with_and_without_recovery_agrees_with_the_backtest(world: BotWorld) -> None:
    world.connect("m", "mexc")
    clock = world.admin.call("GET", "/_sim/clock")
    t0 = (int(clock["now"]) // MINUTE + 1) * MINUTE
    world.admin.call("POST", "/_sim/clock", {"mode": "virtual", "start": t0, "speed": 0})
    try:
        world.admin.call("POST", "/_sim/market", {"symbol": "BTC/USDT", "replay": str(DATA), "speed": 1})
        world.bot("rec", "m", settings={**SETTINGS, **RECOVERY}, recovery=True, margin_limit=MARGIN_LIMIT)
        world.bot("norec", "m", settings=SETTINGS, recovery=False, margin_limit=MARGIN_LIMIT)
        rows = _rows(DAYS)
        stepped, rounds = asyncio.run(_run(world, ["rec", "norec"], rows, t0))
    finally:
        world.admin.call("POST", "/_sim/clock", {"mode": "real"})
    shown = {name: world.cli("bots", "show", name, "--json") for name in ("rec", "norec")}
    figures = {name: json.loads(result.stdout) for name, result in shown.items()}
    for fig in figures.values():
        assert fig["mode"] == "paper" and fig["status"] == "running", fig
        for key in ("margin_used_max", "addons_used", "realized_pnl", "unrealized_pnl", "fees"):
            assert key in fig, key
    rec, norec = figures["rec"], figures["norec"]
    print(
        f"\n{DAYS} days, {stepped} of {len(rows)} minutes stepped, {rounds} rounds; "
        f"max margin with Recovery Mode {rec['margin_used_max']}, without {norec['margin_used_max']}; "
        f"P&L {rec['realized_pnl']} / {norec['realized_pnl']}"
    )
    fees = _market_fees(world)
    worst: dict[str, Decimal] = {}
    for name, recovery in (("rec", True), ("norec", False)):
        paper = _groups_of_bot(world, name)
        backtest, result = _groups_of_backtest(recovery, fees, DAYS)
        worst[name] = result.max_margin_used
        matched = 0
        for group in sorted(set(paper) | set(backtest)):
            ours, theirs = paper.get(group, []), backtest.get(group, [])
            print(name, group, [(r, str(p)[:9]) for r, p in ours], "|", [(r, str(p)[:9]) for r, p in theirs])
            if [r for r, _ in ours] != [r for r, _ in theirs] or matched < group - 1:
                continue
            assert all(abs(a - b) / b <= PRICE_TOLERANCE for (_, a), (_, b) in zip(ours, theirs, strict=True))
            matched = group
        assert matched >= min(MATCHED_GROUPS, len(backtest)), (name, matched)
        assert abs(len(paper) - len(backtest)) <= GROUP_SLACK, (name, len(paper), len(backtest))
        shown_worst = Decimal(figures[name]["margin_used_max"])
        assert abs(shown_worst - result.max_margin_used) <= MARGIN_TOLERANCE * result.max_margin_used, (
            name,
            shown_worst,
            result.max_margin_used,
        )
    if worst["rec"] < worst["norec"]:  # the whole month: 1,234 against 2,078 in the backtest
        assert Decimal(rec["margin_used_max"]) < Decimal(norec["margin_used_max"]), (rec, norec)


def _market_fees(world: BotWorld) -> Fees:
    async def read() -> Fees:
        hub = world.hub()
        try:
            markets = await hub.markets("mexc")
            market = markets["BTC/USDT"]
            return Fees(maker=Decimal(str(market["maker"])), taker=Decimal(str(market["taker"])))
        finally:
            await hub.close()

    return asyncio.run(read())
