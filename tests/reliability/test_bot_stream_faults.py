"""Issue 17, stream rows of the bot fault matrix: a paper and a live DCA bot on one connection, driven by
the product's BotRunner with streams on (ticker streams in the hub, the live connection's order stream),
while the simulator drops the venue's WebSocket connections, stalls them, or expires its listenKeys.

Per row, on the real clock: both bots enter on streamed prices; the fault is injected; the hub counts a
reconnect (ws_drop), answers from REST while the stream is stale (fallbacks counted, ws_stall), or the
user stream asks for a new listenKey (a POST to the listenKey path after the fault, listenkey_expire);
then the price moves to the first add-on and both bots add on, the stream answering again (hits grow)
and, for the live bot, order updates flowing again. Bots keep running (no pause, no error), the venue
holds each client order id once and the store agrees with it (tests/reliability/agreement.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import DCA_SETTINGS, NO_CACHE
from tests.integration.simtools import SimAdmin
from tests.reliability.agreement import compare
from tests.reliability.bot_faults import count_bot_row, reached
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, app_on, fund, now_ms, requests_since, sim_orders
from tradewarden.adapters.execution.live import LiveConfig
from tradewarden.adapters.market import HubConfig, MarketHub
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.bots import leases, service
from tradewarden.services.bots.runner import BotRunner, RunnerConfig
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

CATEGORY = "fault matrix: bot streams ({mode})"
BASE = Decimal(50000)
ADDON = BASE * Decimal("0.978")  # past the first add-on's -2 %
WAIT_S = 20.0  # bound of every wait of a row
LIVE = LiveConfig(max_attempts=10, lookup_attempts=12, settle_s=1.0, backoff_s=0.05, backoff_cap_s=0.4)
# Short stream timings (fresh, stall timeout; production 3 s and 10 s) above each venue's ticker cadence
# in the simulator (KuCoin's snapshot topic every 2 s, the others' about 1 s), and the injected stall.
TIMING = {"kucoin": (2.5, 3.0, 5000)}
DEFAULT_TIMING = (1.5, 1.5, 3000)
# Where each venue's user stream asks for its listenKey (KuCoin: the private bullet's connect token).
LISTEN_KEY_PATHS = {
    "binance": "/fapi/v1/listenKey",
    "mexc": "/api/v3/userDataStream",
    "kucoin": "/bullet-private",
}


@dataclass(frozen=True)
class StreamCase:
    """One row: the fault and where it runs (`market` futures: Binance USD-M, whose user stream takes a
    listenKey; ccxt takes Binance spot user data over the WebSocket API, which has none)."""

    kind: Literal["ws_drop", "ws_stall", "listenkey_expire"]
    venue: str
    market: str = "spot"

    @property
    def name(self) -> str:
        """`kind (venue[ futures])`."""
        return f"{self.kind} ({self.venue}{' futures' if self.market == 'futures' else ''})"

    @property
    def pair(self) -> str:  # the simulator prices the USD-M contract from the spot pair's price
        """The bots' pair."""
        return "BTC/USDT:USDT" if self.market == "futures" else "BTC/USDT"


CASES = (
    StreamCase("ws_drop", "binance"),
    StreamCase("ws_drop", "mexc"),
    StreamCase("ws_drop", "kucoin"),
    StreamCase("ws_stall", "binance"),
    StreamCase("ws_stall", "kucoin"),
    StreamCase("listenkey_expire", "mexc"),
    StreamCase("listenkey_expire", "kucoin"),
    StreamCase("listenkey_expire", "binance", "futures"),
)


@dataclass
class World:
    """The module's simulator, app and vault."""

    sim: ThreadedSim
    admin: SimAdmin
    app: App
    vault: VaultSession


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1740).start()
    try:
        for app in app_on(Path(tmp_path_factory.mktemp("botstreams")) / "twhome"):
            yield World(sim, SimAdmin(sim.url), app, VaultSession.open(app, Secret(PASSPHRASE)))
    finally:
        sim.stop()


def _figures(app: App, name: str, pair: str) -> tuple[dict[str, Any] | None, int]:
    view = service.get(app, name)
    return view.pair_states.get(pair), len(service.orders(app, name, open_only=True))


async def _until(what: str, check: Any, seconds: float = WAIT_S) -> float:
    """Wait (bounded) until `check()` is true; the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def _row(world: World, case: StreamCase, conn: str, names: list[str]) -> dict[str, Any]:
    """Run the row; its figures."""
    app, admin, venue = world.app, world.admin, case.venue
    fresh_s, stall_s, stall_ms = TIMING.get(venue, DEFAULT_TIMING)
    timing = {"stream_fresh_s": fresh_s, "stream_stall_s": stall_s, "stream_retry_s": 0.1}
    hub = MarketHub(HubConfig(default_endpoint=world.sim.url, ttl_s=NO_CACHE, error_ttl_s=0.0, **timing))
    runner = BotRunner(app, hub, world.vault, RunnerConfig(interval_s=0.25, live=LIVE, streams=True))
    ccxt_id = "binanceusdm" if case.market == "futures" else venue
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    out: dict[str, Any] = {}

    def streams() -> dict[str, int]:
        return dict(hub.snapshot().streams.get(ccxt_id, {}))

    def at(step: int) -> bool:
        return all(reached(*_figures(app, n, case.pair), 0, step) for n in names)

    try:
        started = time.monotonic()
        try:
            out["entered_s"] = await _until("both bots entered", lambda: at(0))
        except AssertionError as exc:
            views = [(v.status, v.status_reason) for v in (service.get(app, n) for n in names)]
            figures = [(_figures(app, n, case.pair), service.history(app, n)[:3]) for n in names]
            raise AssertionError(f"{exc}: {views}, {runner.config.errors}, {figures}") from None
        await _until("the ticker stream answered", lambda: streams().get("hits", 0) > 0)
        assert runner.streams is not None
        user = runner.streams
        await _until("the order stream is watched", lambda: bool(user.users))
        await asyncio.sleep(0.5)  # the user stream subscribed before the fault
        before, updates, fault_at = streams(), user.order_updates, now_ms()
        reconnects = hub.snapshot().stream_reconnects.get(ccxt_id, 0)
        body: dict[str, Any] = {"venue": venue, "kind": case.kind}
        if case.kind == "ws_stall":
            body["ms"] = stall_ms
        out["fault"] = admin.call("POST", "/_sim/faults", body)
        fault_t = time.monotonic()
        if case.kind == "ws_drop":
            await _until(
                "the ticker stream reconnected",
                lambda: hub.snapshot().stream_reconnects.get(ccxt_id, 0) > reconnects,
            )
        if case.kind == "ws_stall":
            await _until("REST answered while stalled", lambda: streams()["fallbacks"] > before["fallbacks"])
            out["fallback_s"] = time.monotonic() - fault_t
            await _until("the stall timed out and reconnected", lambda: hub.snapshot().stream_reconnects.get(
                ccxt_id, 0) > reconnects)  # fmt: skip
        if case.kind in ("ws_drop", "listenkey_expire"):
            await _until("the order stream was watched again", lambda: user.user_reconnects > 0)
        if case.kind == "listenkey_expire":
            path = LISTEN_KEY_PATHS[venue]

            def new_key() -> bool:
                rows = requests_since(admin, venue, fault_at)
                return any(r["method"] == "POST" and r["path"].endswith(path) for r in rows)

            await _until("a new listenKey was asked for", new_key)
        hits = streams()["hits"]
        admin.call("POST", "/_sim/market", {"venue": venue, "symbol": "BTC/USDT", "price": float(ADDON)})
        out["addon_s"] = await _until("both bots added on", lambda: at(1))
        await _until("the stream answered again", lambda: streams()["hits"] > hits)
        await _until("order updates flow again", lambda: user.order_updates > updates)
        out["row_s"] = time.monotonic() - started
        out["after"] = streams()
        out["before"] = before
        out["reconnects"] = hub.snapshot().stream_reconnects.get(ccxt_id, 0) - reconnects
        out["user_reconnects"] = user.user_reconnects
        out["order_updates"] = user.order_updates
        out["errors"] = dict(runner.config.errors)
        out["statuses"] = {n: (service.get(app, n).status, service.get(app, n).status_reason) for n in names}
        return out
    finally:
        admin.call("DELETE", "/_sim/faults")
        stop.set()
        await asyncio.wait_for(task, 30)
        await asyncio.to_thread(leases.release, app.store, runner.owner)
        out["streams_left"] = (
            (len(runner.streams.tickers), len(runner.streams.users)) if runner.streams else None
        )
        await hub.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bots_under_stream_fault(case: StreamCase, world: World, reliability: Counters) -> None:
    app, admin = world.app, world.admin
    index = CASES.index(case)
    conn, paper, live = f"Stream Fault {index:02d}", f"sf{index:02d}-paper", f"sf{index:02d}-live"
    admin.call("POST", "/_sim/market", {"venue": case.venue, "symbol": "BTC/USDT", "price": float(BASE)})
    perms = ["read", "spot_trade", "futures_trade"] if case.market == "futures" else ["read", "spot_trade"]
    key: dict[str, Any] = admin.key(case.venue, perms, ["127.0.0.1"])
    fund(admin, key["apiKey"])
    creds = {f: Secret(str(key[f])) for f in ("apiKey", "secret", "password") if key.get(f)}
    from tradewarden.services.connections import checks

    if case.market == "futures":
        view, report = checks.add_tested(
            app, Secret(PASSPHRASE), conn, case.venue, creds, market="futures", endpoint=world.sim.url
        )
        assert view is not None and report is not None and report.status == "online", report
        connection_id = view.id
    else:
        connection_id = add_online(app, conn, case.venue, key, world.sim.url)
    # USD-M's BTC contract steps 0.001 with a 100 USDT minimum: a 100 USDT base order at a price just over
    # 50,000 rounds down to 0.001 (50 USDT) and is refused, so the futures row buys 200.
    settings = {**DCA_SETTINGS, "base_order": "200"} if case.market == "futures" else DCA_SETTINGS
    for name, mode in ((paper, "paper"), (live, "live")):
        service.create(app, service.BotSpec(name, conn, "dca", (case.pair,), mode, settings=settings))  # type: ignore[arg-type]
        service.start(app, name)
    try:
        got = asyncio.run(_row(world, case, conn, [paper, live]))
    finally:
        for name in (paper, live):
            if service.get(app, name).status in ("running", "paused"):
                service.stop(app, name)

    held = sim_orders(admin, case.venue, key["apiKey"])
    agreement = compare(app.store, connection_id, held)
    row = count_bot_row(reliability, CATEGORY, case.name, app, agreement, (paper, live), 1)
    orders, tags, paper_unfinished = row.orders, row.tags, row.paper_unfinished
    fallback = f", REST fallback after {got['fallback_s']:.1f} s" if "fallback_s" in got else ""
    print(
        f"\n[bot streams: {case.name}] row {got['row_s']:.1f} s (entry {got['entered_s']:.1f} s, "
        f"add-on after the fault {got['addon_s']:.1f} s{fallback}); fault {got['fault']}; "
        f"ticker stream before {got['before']} after {got['after']}, reconnects {got['reconnects']}; "
        f"user stream reconnects {got['user_reconnects']}, order updates {got['order_updates']}; "
        f"live orders {Counter(o.status for o in orders[live])}, "
        f"paper {Counter(o.status for o in orders[paper])}; "
        f"runner errors {got['errors']}; statuses {got['statuses']}"
    )
    assert agreement.problems == [], agreement.problems
    assert [t for t, n in tags.items() if n > 1] == []
    assert paper_unfinished == []
    assert all(status == "running" for status, _reason in got["statuses"].values()), got["statuses"]
    assert got["errors"] == {}, got["errors"]
    assert got["after"]["hits"] > got["before"]["hits"] and got["after"]["frames"] > got["before"]["frames"]
    if case.kind in ("ws_drop", "ws_stall"):
        assert got["reconnects"] >= 1
    if case.kind == "ws_stall":
        assert got["after"]["fallbacks"] > got["before"]["fallbacks"]
    if case.kind in ("ws_drop", "listenkey_expire"):
        assert got["user_reconnects"] >= 1
    if case.kind == "listenkey_expire":
        assert got["fault"]["expired"] >= 1
    assert got["streams_left"] == (0, 0)  # the runner closed its subscriptions when it stopped
    for name in (paper, live):
        figures = service.get(app, name).pair_states[case.pair]
        assert int(figures["addons_total"]) >= 1 and int(figures["groups"]) >= 1, figures
    assert agreement.fills >= 2


@pytest.mark.timeout(60)
def test_binance_usdm_listen_key_replaced_after_expiry(world: World, reliability: Counters) -> None:
    """The runner's order stream on a Binance USD-M connection (ccxt takes Binance spot user data over the
    WebSocket API, with no listenKey): after the listenKey expires, ccxt.pro would reconnect with its
    cached key for 20 minutes; the runner forgets it, a new one is POSTed, and order updates flow again."""
    app, admin = world.app, world.admin
    key: dict[str, Any] = admin.key("binance", ["read", "spot_trade", "futures_trade"], ["127.0.0.1"])
    fund(admin, key["apiKey"])
    creds = {f: Secret(str(key[f])) for f in ("apiKey", "secret") if key.get(f)}
    from tradewarden.services.connections import checks

    view, report = checks.add_tested(
        app,
        Secret(PASSPHRASE),
        "Stream Fault USDM",
        "binance",
        creds,
        market="futures",
        endpoint=world.sim.url,
    )
    assert view is not None and report is not None and report.status == "online", report
    got = asyncio.run(_usdm_listen_key(world, view.id, "Stream Fault USDM"))
    print(f"\n[bot streams: listenkey_expire (binance USD-M order stream)] {got}")
    reliability.count(CATEGORY.format(mode="live"), "cases", got["orders"])
    reliability.count(CATEGORY.format(mode="live"), "faults", 1)
    assert got["expired"] >= 1
    assert got["posts_before"] == 1 and got["posts_after"] == 1, got  # one new listenKey, asked for once
    assert got["user_reconnects"] >= 1 and got["updates_after"] > got["updates_before"]


async def _usdm_listen_key(world: World, connection_id: str, conn: str) -> dict[str, Any]:
    from types import SimpleNamespace

    from tradewarden.adapters.store.models import Connection
    from tradewarden.services.bots.executors import venue_of
    from tradewarden.services.bots.streams import RunnerStreams

    admin, pair, path = world.admin, "BTC/USDT:USDT", LISTEN_KEY_PATHS["binance"]
    with world.app.store.session() as session:
        row = session.get(Connection, connection_id)
        assert row is not None
        venue = venue_of(row)
    hub = MarketHub(HubConfig(default_endpoint=world.sim.url, ttl_s=NO_CACHE))
    streams = RunnerStreams(hub, world.vault, retry_s=0.1)
    bot = SimpleNamespace(
        status="running", venue=venue, driver=SimpleNamespace(mode="live", pairs={pair: None})
    )
    started = now_ms()

    def posts(since: int) -> int:
        rows = requests_since(admin, "binance", since)
        return sum(1 for r in rows if r["method"] == "POST" and r["path"].endswith(path))

    try:
        client = await world.vault.private_client(hub, conn)
        await client.load_markets()
        await streams.sync([bot])
        await _until("the order stream is watched", lambda: bool(streams._clients))
        await asyncio.sleep(0.5)
        await client.create_order(pair, "market", "buy", 0.01)
        await _until("an order update", lambda: streams.order_updates >= 1)
        fault_at, updates = now_ms(), streams.order_updates
        expired = admin.call("POST", "/_sim/faults", {"venue": "binance", "kind": "listenkey_expire"})[
            "expired"
        ]
        await _until("the order stream was watched again", lambda: streams.user_reconnects >= 1)
        await _until("a new listenKey", lambda: posts(fault_at) >= 1)
        await asyncio.sleep(0.5)
        await client.create_order(pair, "market", "sell", 0.01)
        await _until("order updates flow again", lambda: streams.order_updates > updates)
        return {
            "expired": expired,
            "posts_before": posts(started) - posts(fault_at),
            "posts_after": posts(fault_at),
            "user_reconnects": streams.user_reconnects,
            "updates_before": updates,
            "updates_after": streams.order_updates,
            "orders": 2,
            "hub": hub.snapshot().streams.get("binanceusdm"),
        }
    finally:
        await streams.close()
        await hub.close()


@pytest.mark.timeout(60)
def test_an_order_update_wakes_the_runner(world: World) -> None:
    """A live bot's order stream starts the next round at once: with rounds 30 s apart, an order placed on
    the connection (by hand, outside the bot) is followed by a round within a few seconds."""
    app, admin = world.app, world.admin
    key: dict[str, Any] = admin.key("mexc", ["read", "spot_trade"], ["127.0.0.1"])
    fund(admin, key["apiKey"])
    add_online(app, "Stream Wake", "mexc", key, world.sim.url)
    settings = {**DCA_SETTINGS, "entry": "below:1"}  # never enters: the only order is the hand-placed one
    service.create(
        app, service.BotSpec("wake-live", "Stream Wake", "dca", ("BTC/USDT",), "live", settings=settings)
    )
    service.start(app, "wake-live")
    try:
        woke_after = asyncio.run(_wake(world, "Stream Wake"))
    finally:
        service.stop(app, "wake-live")
    print(f"\n[bot streams: wake] a round followed the order update after {woke_after:.2f} s (interval 30 s)")
    assert woke_after < 5.0


async def _wake(world: World, conn: str) -> float:
    hub = MarketHub(HubConfig(default_endpoint=world.sim.url, ttl_s=NO_CACHE))
    runner = BotRunner(world.app, hub, world.vault, RunnerConfig(interval_s=30.0, live=LIVE, streams=True))
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await _until("the first round", lambda: runner.rounds >= 1)
        assert runner.streams is not None
        user = runner.streams
        await _until("the order stream is watched", lambda: bool(user._clients))
        await asyncio.sleep(1.0)  # subscribed before the order
        rounds = runner.rounds
        client = await world.vault.private_client(hub, conn)
        placed = time.monotonic()
        await client.create_order("BTC/USDT", "market", "buy", 0.001)
        await _until("a round after the order update", lambda: runner.rounds > rounds, seconds=10.0)
        assert user.order_updates >= 1
        return time.monotonic() - placed
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await asyncio.to_thread(leases.release, world.app.store, runner.owner)
        await hub.close()
