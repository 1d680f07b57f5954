"""Issue 15, Done-when: after a SIGKILL and restart no order is duplicated and no group lost.

`tradewarden runner --interval 0.2` runs as a subprocess over a home with paper bots on three venues and
two LIVE bots on the simulator's Binance, while the test moves prices (a random walk of admin price pins,
so DCA groups open, add on and close, and grids refill, within seconds). The runner is killed with SIGKILL
at a random moment after it has stepped, `TW_BOT_KILLS` times (default 3; 10 in the long reliability
configuration, `TW_RELIABILITY=long`), restarted each time, and finally stopped with SIGTERM. Then:
- per bot, each strategy tag and each client order id names one order, and no DCA group has two filled
  base orders (or an add-on level two filled add-ons): a decision repeated after a restart adopted its
  order instead of sending another;
- every order the store holds open is one the bot's saved state still watches (none orphaned), and each
  DCA bot's groups in its state equal its `group_opened` events and its filled base orders (none lost);
- for the live bots, every order in the simulator's own log (`/_sim/orders`) maps to exactly one store
  order with the same fill, and every order the store says was placed is on the venue.

The clock stays real here: live orders are signed with the wall clock and the venues refuse timestamps
outside their window, so the virtual clock (test_many_bots.py) cannot drive a live bot.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.integration.bots.conftest import BotWorld
from tradewarden.adapters.execution.live import NEVER_PLACED
from tradewarden.adapters.store.models import BotEventRow, BotRow, OrderRow
from tradewarden.services.bots import service

LONG = os.environ.get("TW_RELIABILITY") == "long"
KILLS = int(os.environ.get("TW_BOT_KILLS", "10" if LONG else "3"))
VENUES = ("mexc", "kucoin", "binance")
ASSETS = {"BTC": Decimal(60000), "ETH": Decimal(3000), "SOL": Decimal(150), "XRP": Decimal("0.6")}
TICKS = {"BTC": Decimal("0.01"), "ETH": Decimal("0.01"), "SOL": Decimal("0.01"), "XRP": Decimal("0.0001")}
TIGHT_DCA = {
    "base_order": "40",
    "addon_order": "30",
    "addon_count": "3",
    "addon_deviation_pct": "0.4",
    "addon_step_scale": "1",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "0.3",
    "stop_loss_pct": "4",
    "stop_loss_from": "first",
}
FUNDS = {"USDT": "100000", "BTC": "1", "ETH": "10"}
TAG = re.compile(r"^dca-g(\d+)-(base|addon|close)(\d*)-\d+$")


def grid_around(price: Decimal, tick: Decimal) -> dict[str, str]:
    """A grid of 8 levels 1.5 % either side of `price`."""
    return {
        "lower": str((price * Decimal("0.985")).quantize(tick)),
        "upper": str((price * Decimal("1.015")).quantize(tick)),
        "levels": "8",
        "spacing": "arithmetic",
        "order_amount": "15",
        "trailing": "off",
    }


@dataclass(frozen=True)
class Stored:
    """One of the bots' orders as the store holds it."""

    bot: str
    tag: str
    cid: str
    status: str
    filled: Decimal
    outcome: str | None
    error: str | None


class Walk:
    """Random-walk price pins around each asset's start (within ±2.5 %), every venue following."""

    def __init__(self, world: BotWorld, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.prices = dict(ASSETS)

    def step(self) -> None:
        """Move one asset by up to ±0.45 % (sometimes a 1 % dip)."""
        asset = self.rng.choice(sorted(self.prices))
        move = Decimal(str(self.rng.uniform(-0.0045, 0.0045)))
        if self.rng.random() < 0.1:
            move = Decimal("-0.01")
        start = ASSETS[asset]
        price = min(max(self.prices[asset] * (1 + move), start * Decimal("0.975")), start * Decimal("1.025"))
        self.prices[asset] = price.quantize(TICKS[asset])
        self.world.price("binance", self.prices[asset], f"{asset}/USDT")

    def for_seconds(self, seconds: float) -> None:
        """Keep moving prices for `seconds` (a pin every 0.2 s)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.step()
            time.sleep(0.2)


class Runner:
    """`tradewarden runner` as a subprocess of the test (its stderr kept for the failure message)."""

    def __init__(self, world: BotWorld, log_dir: Path) -> None:
        self.world = world
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start a fresh runner process."""
        self.starts += 1
        log = (self.log_dir / f"runner-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradewarden", "runner", "--interval", "0.2", "--lease", "2"],
            env=self.world.cli.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def end(self, sig: int) -> int:
        """Send `sig` and wait for the process; its exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.proc is not None and self.proc.poll() is None

    def logs(self) -> str:
        """Every run's output."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("runner-*.log")))


def steps_done(world: BotWorld) -> int:
    """Steps the bots have saved, over all bots (a step that changed nothing may not be saved)."""
    with world.app.store.session() as session:
        return int(session.scalar(select(func.coalesce(func.sum(BotRow.steps), 0))) or 0)


def wait_for_steps(world: BotWorld, runner: Runner, walk: Walk, more_than: int, timeout_s: float) -> int:
    """Move prices until the running process has saved more than `more_than` steps; the count."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        assert runner.alive(), runner.logs()[-3000:]
        done = steps_done(world)
        if done > more_than:
            return done
        walk.step()
        time.sleep(0.2)
    with world.app.store.session() as session:
        bots = [(r.name, r.status, r.status_reason, r.steps) for r in session.scalars(select(BotRow))]
    raise AssertionError(f"the runner saved no step within {timeout_s} s: {bots}\n{runner.logs()[-3000:]}")


def fresh_weights(world: BotWorld) -> None:
    """Give the venues' request-weight meters a new minute before a start.

    Each start loads every venue's markets (Binance's exchangeInfo weighs 20); eleven process starts in
    about a minute spent Binance's weight per minute, which a new process cannot know it shares, and the
    simulator answered 429, then 418 with a ban of minutes. Real restarts are not that frequent.
    """
    for venue in VENUES:
        world.admin.call("POST", "/_sim/venue", {"venue": venue, "reset_weights": True})


def live_lag(world: BotWorld) -> list[str]:
    """Live bot orders whose stored fill differs from the venue's (client ids)."""
    key = world.keys["binance"]["apiKey"]
    venue = {v["clientOrderId"]: Decimal(v["executedQty"]) for v in world.admin.call(
        "GET", f"/_sim/orders?venue=binance&api_key={key}")}  # fmt: skip
    with world.app.store.session() as session:
        stored = {o.client_order_id: o.filled for o in session.scalars(
            select(OrderRow).where(OrderRow.client_order_id.in_(list(venue))))}  # fmt: skip
    return [cid for cid, done in venue.items() if cid in stored and stored[cid] != done]


def wait_for_live_fills(world: BotWorld, runner: Runner, timeout_s: float) -> None:
    """Wait (prices still) until the running process has stored every live fill the venue made."""
    end = time.monotonic() + timeout_s
    while live_lag(world) and time.monotonic() < end:
        assert runner.alive(), runner.logs()[-3000:]
        time.sleep(0.2)  # on timeout the order-by-order check below names the order that lags


@pytest.fixture
def kill_world(world: BotWorld, tmp_path: Path) -> Iterator[tuple[BotWorld, dict[str, dict[str, Any]]]]:
    """Connections on three venues (Binance's key funded for the live bots), prices pinned at the starts."""
    for venue in VENUES:
        world.connect(venue, venue)
    world.admin.call("POST", "/_sim/balances", {"apiKey": world.keys["binance"]["apiKey"], "balances": FUNDS})
    for asset, price in ASSETS.items():
        world.price("binance", price, f"{asset}/USDT")
    made: dict[str, dict[str, Any]] = {}
    for venue in VENUES:
        for asset, price in ASSETS.items():
            pair = f"{asset}/USDT"
            name = f"p-dca-{venue}-{asset}".lower()
            world.bot(name, venue, pairs=(pair,), settings=TIGHT_DCA)
            made[name] = {"strategy": "dca", "pair": pair, "mode": "paper", "venue": venue}
            name = f"p-grid-{venue}-{asset}".lower()
            world.bot(name, venue, strategy="grid", pairs=(pair,), settings=grid_around(price, TICKS[asset]))
            made[name] = {"strategy": "grid", "pair": pair, "mode": "paper", "venue": venue}
    live = (
        ("l-dca-btc", "dca", "BTC/USDT", TIGHT_DCA),
        ("l-grid-eth", "grid", "ETH/USDT", grid_around(ASSETS["ETH"], TICKS["ETH"])),
    )
    for name, strategy, pair, settings in live:
        service.create(
            world.app,
            service.BotSpec(name, "binance", strategy, (pair,), "live", settings=settings),
        )
        service.start(world.app, name)
        made[name] = {"strategy": strategy, "pair": pair, "mode": "live", "venue": "binance"}
    yield world, made


@pytest.mark.timeout(900)
def test_sigkill_and_restart_repeat_no_order_and_lose_no_group(
    kill_world: tuple[BotWorld, dict[str, dict[str, Any]]], tmp_path: Path
) -> None:
    """KILLS SIGKILLs of the runner at random moments; the store, the states and the venue agree."""
    world, bots = kill_world
    walk = Walk(world, seed=1515)
    rng = random.Random(15)
    runner = Runner(world, tmp_path)
    steps = 0
    try:
        for _kill in range(KILLS):
            fresh_weights(world)
            runner.start()
            steps = wait_for_steps(world, runner, walk, steps, timeout_s=90)
            walk.for_seconds(rng.uniform(0.5, 3.0))  # a random moment in the runner's rounds
            assert runner.end(signal.SIGKILL) == -signal.SIGKILL
            steps = steps_done(world)  # what the killed process saved after the count above
        fresh_weights(world)
        runner.start()  # the last restart runs on (its leases wait for the killed runner's to expire)
        steps = wait_for_steps(world, runner, walk, steps, timeout_s=90)
        walk.for_seconds(5.0)
        # Prices stand still while the runner catches up: the walk's last pin may fill a live order on the
        # venue a moment before a stop, and a round after it must bring the store to the venue's word.
        wait_for_live_fills(world, runner, timeout_s=30)
        assert runner.end(signal.SIGTERM) == 0, runner.logs()[-3000:]
    finally:
        if runner.alive():
            runner.end(signal.SIGKILL)

    logs = runner.logs()
    assert "Traceback" not in logs and "failed" not in logs, logs[-3000:]

    with world.app.store.session() as session:
        rows = {r.name: r for r in session.scalars(select(BotRow))}
        keys = {service.bot_key(r.id): r.name for r in rows.values()}
        orders = [
            Stored(keys[o.bot or ""], o.tag or "", o.client_order_id, o.status, o.filled, o.outcome, o.error)
            for o in session.scalars(select(OrderRow).where(OrderRow.bot.in_(list(keys))))
        ]
        by_id = {r.id: r.name for r in rows.values()}
        events = Counter((by_id[e.bot_id], e.kind) for e in session.scalars(select(BotEventRow)))
        states = {name: json.loads(r.state_json) for name, r in rows.items()}
        statuses = {name: (r.status, r.status_reason) for name, r in rows.items()}

    assert all(s[0] == "running" for s in statuses.values()), statuses
    # nothing refused; a live order a kill cut off between storing and sending is found missing on the
    # venue at restart and stored as never placed (checked against the venue's log below)
    assert [o for o in orders if o.status == "rejected" and o.error != NEVER_PLACED] == []
    # each tag, and each client order id, names one order
    assert [k for k, c in Counter((o.bot, o.tag) for o in orders).items() if c > 1] == []
    assert [k for k, c in Counter(o.cid for o in orders).items() if c > 1] == []

    for name, bot in bots.items():
        saved = states[name]["pairs"][bot["pair"]]
        mine = [o for o in orders if o.bot == name]
        # none orphaned: what the store holds open, the bot's saved state still watches
        open_tags = {o.tag for o in mine if o.status in ("open", "pending", "unknown")}
        assert open_tags <= set(saved["open"]), (name, open_tags - set(saved["open"]))
        if bot["strategy"] != "dca":
            continue
        filled: Counter[tuple[str, str, str]] = Counter()
        for o in mine:
            found = TAG.match(o.tag.partition("|")[2])
            assert found, o.tag
            if o.filled > 0 and found.group(2) != "close":  # a group may take more than one exit order
                filled[(found.group(1), found.group(2), found.group(3))] += 1
        assert [k for k, c in filled.items() if c > 1] == [], (name, filled)
        # each base order that filled opened one group, and the state counts it; the history may lack
        # the event of a decision a kill cut off after its order was sent (at most one per kill)
        bases = sum(1 for k in filled if k[1] == "base")
        groups = states[name]["figures"][bot["pair"]]["groups"]
        told = events[(name, "group_opened")]
        assert groups == bases and told >= groups - KILLS, (name, groups, bases, told)

    # the live bots: the simulator's order log against the store, order by order
    key = world.keys["binance"]["apiKey"]
    venue_orders: list[dict[str, Any]] = world.admin.call("GET", f"/_sim/orders?venue=binance&api_key={key}")
    live_names = [n for n, b in bots.items() if b["mode"] == "live"]
    stored = {o.cid: o for o in orders if o.bot in live_names}
    venue_ids = Counter(v["clientOrderId"] for v in venue_orders)
    assert [cid for cid, c in venue_ids.items() if c > 1] == []
    assert [cid for cid in venue_ids if cid not in stored] == [], "orders on the venue the store lacks"
    for cid, order in stored.items():
        if order.status == "rejected":
            assert cid not in venue_ids
            continue
        assert cid in venue_ids, (cid, order)
        venue = next(v for v in venue_orders if v["clientOrderId"] == cid)
        assert Decimal(venue["executedQty"]) == order.filled, (cid, venue, order)

    # the run did something worth checking: fills on both sides of every restart, live ones too
    assert runner.starts == KILLS + 1
    assert sum(1 for o in orders if o.filled > 0) >= 20
    assert sum(events[(n, "group_opened")] for n, b in bots.items() if b["strategy"] == "dca") >= 5
    assert any(venue_ids) and any(Decimal(v["executedQty"]) > 0 for v in venue_orders)
    print(
        f"\n[restart] {KILLS} SIGKILLs, {len(orders)} orders ({len(stored)} live, {len(venue_orders)} on "
        f"the venue), {steps} steps, groups "
        f"{sum(events[(n, 'group_opened')] for n in bots)}, take profits "
        f"{sum(events[(n, 'take_profit')] for n in bots)}"
    )
