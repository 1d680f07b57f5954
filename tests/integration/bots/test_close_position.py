"""Closing a stopped bot's position (`bots stop --close-position --yes`) leaves the bot telling the truth.

On the simulator, a DCA bot enters and adds on, is stopped and closed at market: `bots show --json`
then says position 0, unrealized 0, margin 0, realized P&L equal to what the store's fills add up to
(sell proceeds - buy costs - fees), a `position_closed` event; the fill cursor is past the close, and a
start opens a new group with a base order instead of managing the position that was sold. Paper and
live (the venue's orders match). A close the book cannot fill in full leaves the rest shown as held.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.integration.bots.conftest import BotWorld, runner_for
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import sim_orders
from tradewarden.adapters.store.models import BotRow, FillRow, OrderRow
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.bots import service
from tradewarden.services.bots.runner import BotRunner
from tradewarden.services.vault_session import VaultSession

PAIR = "BTC/USDT"
EPSILON = Decimal("1e-12")  # the store keeps 18 decimals; the strategy computes in 28 digits
DEFAULT_BOOK = {"spread_bps": 2, "depth": 20, "level_notional": 25000, "recovery_ms": 5000}  # mexc's


@pytest.fixture(autouse=True)
def _fresh_weights(sim_admin: SimAdmin) -> Iterator[None]:
    """The session's simulator meters mexc's request weight per minute (500) across tests: these tests
    spend most of it in seconds (each CLI call loads the markets), so the budget is reset before and
    after each, or the next test on mexc is rate limited for what these did."""
    sim_admin.call("POST", "/_sim/venue", {"venue": "mexc", "reset_weights": True})
    yield
    sim_admin.call("POST", "/_sim/venue", {"venue": "mexc", "reset_weights": True})


async def _drive(world: BotWorld, prices: list[float], venue: str, live: bool, rounds: int = 1) -> None:
    """Runner rounds at each price (a live bot: with the vault open, a few rounds for its fills)."""
    hub = world.hub()
    vault = VaultSession.open(world.app, Secret(PASSPHRASE)) if live else None
    try:
        runner = BotRunner(world.app, hub, vault) if live else runner_for(world, hub)
        for price in prices:
            world.price(venue, price)
            for _ in range(rounds):
                await runner.round()
        assert runner.config.errors == {}, runner.config.errors
    finally:
        await hub.close()


def _show(world: BotWorld, name: str) -> dict[str, Any]:
    shown = world.cli("bots", "show", name, "--json")
    assert shown.code == 0, shown.stderr
    out: dict[str, Any] = json.loads(shown.stdout)
    return out


def _fills(world: BotWorld, name: str) -> list[tuple[int, str, str, Decimal, Decimal, Decimal]]:
    """The bot's stored fills: (fill id, tag, side, price, amount, fee in quote)."""
    bot = service.get(world.app, name)
    with world.app.store.session() as session:
        rows = session.execute(
            select(FillRow.id, OrderRow.tag, OrderRow.side, FillRow.price, FillRow.amount, FillRow.fee)
            .add_columns(FillRow.fee_currency)
            .join(OrderRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.bot == service.bot_key(bot.id))
            .order_by(FillRow.id)
        ).all()
    out = []
    for fid, tag, side, price, amount, fee, currency in rows:
        quote_fee = fee * price if currency == "BTC" else fee  # the strategy counts fees in quote
        out.append((fid, str(tag), str(side), price, amount, quote_fee))
    return out


def _money(fills: list[tuple[int, str, str, Decimal, Decimal, Decimal]]) -> Decimal:
    """Sell proceeds - buy costs - fees."""
    return sum(((p * a if side == "sell" else -p * a) - fee for _i, _t, side, p, a, fee in fills), Decimal(0))


def _state(world: BotWorld, name: str) -> dict[str, Any]:
    with world.app.store.session() as session:
        row = session.scalar(select(BotRow).where(BotRow.name == name))
        assert row is not None
        out: dict[str, Any] = json.loads(row.state_json or "{}")
        return out


def _enter_and_add_on(world: BotWorld, name: str, venue: str, live: bool) -> dict[str, Any]:
    world.price(venue, 50000)
    world.bot(name, "m", mode="live" if live else "paper")
    asyncio.run(_drive(world, [50000, 48900], venue, live, rounds=3 if live else 1))
    before = _show(world, name)
    figures = before["pair_states"][PAIR]
    assert Decimal(figures["position"]) > 0 and before["addons_used"] == 1, before
    assert Decimal(before["margin_used"]) > 0
    return before


def _close(world: BotWorld, name: str, venue: str, price: float) -> dict[str, Any]:
    world.price(venue, price)
    stopped = world.cli("bots", "stop", name, "--close-position", "--yes", "--json")
    assert stopped.code == 0, stopped.stderr
    out: dict[str, Any] = json.loads(stopped.stdout)
    return out


def _check_flat(world: BotWorld, name: str, before: dict[str, Any]) -> dict[str, Any]:
    """After a full close: the figures say flat, the realized P&L is what the fills add up to."""
    after = _show(world, name)
    figures = after["pair_states"][PAIR]
    assert after["status"] == "stopped"
    assert Decimal(figures["position"]) == 0 and figures["average_price"] is None, figures
    assert Decimal(after["unrealized_pnl"]) == 0 and Decimal(figures["unrealized_pnl"]) == 0
    assert Decimal(after["margin_used"]) == 0 and after["addons_used"] == 0, after
    fills = _fills(world, name)
    closes = [f for f in fills if "|close-" in f[1]]
    assert closes and all(f[2] == "sell" for f in closes)
    sold = sum((f[4] for f in closes), Decimal(0))
    assert sold == Decimal(before["pair_states"][PAIR]["position"])
    expected = _money(fills)
    assert abs(Decimal(after["realized_pnl"]) - expected) < EPSILON, (after["realized_pnl"], expected)
    assert abs(Decimal(figures["realized_pnl"]) - expected) < EPSILON
    assert abs(Decimal(after["fees"]) - sum((f[5] for f in fills), Decimal(0))) < EPSILON
    assert figures["trades"] == 1 and figures["wins"] == (1 if expected > 0 else 0), figures  # one round trip
    events = [e for e in after["history"] if e["kind"] == "position_closed"]
    assert len(events) == 1 and events[0]["pair"] == PAIR and "flat" in events[0]["reason"], events
    vwap = sum((f[3] * f[4] for f in closes), Decimal(0)) / sold
    assert "average " in events[0]["reason"] and f"{vwap:.2f}".rstrip("0").rstrip(".") in events[0]["reason"]
    state = _state(world, name)
    assert state["fill_cursor"] >= max(f[0] for f in fills)  # a start does not apply the close again
    assert state["pairs"][PAIR]["state"]["group"] is None and state["pairs"][PAIR]["open"] == []
    return after


def _restart_opens_a_new_group(world: BotWorld, name: str, venue: str, live: bool, realized: str) -> None:
    tags_before = {o.tag for o, _ in service.orders(world.app, name)}
    started = world.cli("bots", "start", name, *(["--yes"] if live else []), "--json")
    assert started.code == 0, started.stderr
    asyncio.run(_drive(world, [49500], venue, live, rounds=3 if live else 1))
    new = [o for o, _ in reversed(service.orders(world.app, name)) if o.tag not in tags_before]
    assert new, "the restarted bot placed nothing"
    first = new[0]
    assert first.side == "buy" and first.tag is not None and first.tag.startswith(f"{PAIR}|dca-g2-base-"), [
        (o.side, o.tag) for o in new
    ]
    shown = _show(world, name)
    assert shown["pair_states"][PAIR]["groups"] == 2
    # the close was applied once: the realized P&L is still the first group's
    assert Decimal(shown["realized_pnl"]) == Decimal(realized)


def test_paper_dca_close_position_leaves_it_flat_and_a_start_opens_a_new_group(world: BotWorld) -> None:
    world.connect("m", "mexc")
    before = _enter_and_add_on(world, "p1", "mexc", live=False)
    closed = _close(world, "p1", "mexc", 49500)
    assert [(o["side"], o["status"]) for o in closed["closed"]] == [("sell", "closed")], closed
    assert Decimal(closed["closed"][0]["amount"]) == Decimal(before["pair_states"][PAIR]["position"])
    after = _check_flat(world, "p1", before)
    # closing again has nothing to close and changes nothing
    again = _close(world, "p1", "mexc", 49500)
    assert again["closed"] == []
    assert _show(world, "p1")["realized_pnl"] == after["realized_pnl"]
    _restart_opens_a_new_group(world, "p1", "mexc", False, after["realized_pnl"])


@pytest.mark.timeout(300)
def test_live_dca_close_position_matches_the_venue(world: BotWorld) -> None:
    key = world.connect("m", "mexc")
    before = _enter_and_add_on(world, "l1", "mexc", live=True)
    closed = _close(world, "l1", "mexc", 49500)
    assert [(o["side"], o["status"]) for o in closed["closed"]] == [("sell", "closed")], closed
    after = _check_flat(world, "l1", before)
    # the venue's word: the close is one sell of the whole position, its fills are the store's
    venue = {o["clientOrderId"]: o for o in sim_orders(world.admin, "mexc", key["apiKey"])}
    close_cid = closed["closed"][0]["client_order_id"]
    held = venue[close_cid]
    assert held["side"].lower() == "sell" and Decimal(held["executedQty"]) == Decimal(
        before["pair_states"][PAIR]["position"]
    )
    venue_fills = sorted((Decimal(f["price"]), Decimal(f["qty"])) for o in venue.values() for f in o["fills"])
    assert venue_fills == sorted((f[3], f[4]) for f in _fills(world, "l1"))
    _restart_opens_a_new_group(world, "l1", "mexc", True, after["realized_pnl"])


def test_a_close_the_book_cannot_fill_leaves_the_rest_shown(world: BotWorld) -> None:
    world.connect("m", "mexc")
    before = _enter_and_add_on(world, "t1", "mexc", live=False)
    held = Decimal(before["pair_states"][PAIR]["position"])
    group = _state(world, "t1")["pairs"][PAIR]["state"]["group"]
    try:
        # one level of about 60 USDT a side: a market sell of ~250 USDT fills only part (refilled at once:
        # the session's simulator may have had this level taken a moment ago, by another test's orders)
        thin = {"venue": "mexc", "depth": 1, "level_notional": 60, "recovery_ms": 0}
        world.admin.call("POST", "/_sim/market", thin)
        closed = _close(world, "t1", "mexc", 49500)
    finally:
        world.admin.call("POST", "/_sim/market", {"venue": "mexc", **DEFAULT_BOOK})
    (order,) = closed["closed"]
    filled = Decimal(order["filled"])
    assert 0 < filled < held, order
    after = _show(world, "t1")
    figures = after["pair_states"][PAIR]
    assert Decimal(figures["position"]) == held - filled, (figures, held, filled)
    assert Decimal(after["margin_used"]) > 0 and figures["average_price"] is not None
    events = [e for e in after["history"] if e["kind"] == "position_closed"]
    assert len(events) == 1 and "still held" in events[0]["reason"], events
    fills = _fills(world, "t1")
    sold = [f for f in fills if "|close-" in f[1]]
    assert sum((f[4] for f in sold), Decimal(0)) == filled
    # the part sold is booked against its share of the entries: proceeds - share of cost - fees
    share = filled / held
    expected = sum((f[3] * f[4] - f[5] for f in sold), Decimal(0)) - share * (
        Decimal(group["cost"]) + Decimal(group["fees"])
    )
    assert abs(Decimal(figures["realized_pnl"]) - expected) < EPSILON, (figures["realized_pnl"], expected)
    rest = _state(world, "t1")["pairs"][PAIR]["state"]["group"]
    assert rest is not None and Decimal(rest["qty"]) == held - filled
    assert abs(Decimal(rest["cost"]) - Decimal(group["cost"]) * (1 - share)) < EPSILON


def test_paper_grid_close_cancels_its_limits_sells_the_inventory_and_a_start_lays_out_again(
    world: BotWorld,
) -> None:
    world.connect("m", "mexc")
    world.price("mexc", 50000)
    settings = {"lower": "45000", "upper": "55000", "levels": "5", "order_amount": "100"}
    world.bot("g1", "m", strategy="grid", settings=settings)
    asyncio.run(_drive(world, [50000, 50000], "mexc", live=False))
    before = _show(world, "g1")
    held = Decimal(before["pair_states"][PAIR]["position"])
    resting = service.orders(world.app, "g1", open_only=True)
    assert held > 0 and len(resting) >= 3, (held, resting)  # the initial buy filled; limits rest
    closed = _close(world, "g1", "mexc", 50100)  # stopped with its orders left, then closed
    assert [(o["side"], o["status"]) for o in closed["closed"]] == [("sell", "closed")], closed
    assert service.orders(world.app, "g1", open_only=True) == []  # the limits were canceled first
    after = _show(world, "g1")
    figures = after["pair_states"][PAIR]
    assert Decimal(figures["position"]) == 0 and Decimal(after["margin_used"]) == 0, after
    assert abs(Decimal(after["realized_pnl"]) - _money(_fills(world, "g1"))) < EPSILON
    assert [e["kind"] for e in after["history"]].count("position_closed") == 1
    grid_state = _state(world, "g1")["pairs"][PAIR]
    assert grid_state["state"]["prices"] == [] and grid_state["state"]["orders"] == []
    assert grid_state["open"] == []
    seq = int(grid_state["state"]["seq"])
    tags_before = {o.tag for o, _ in service.orders(world.app, "g1")}
    assert world.cli("bots", "start", "g1").code == 0
    asyncio.run(_drive(world, [50100], "mexc", live=False))
    new = [o for o, _ in reversed(service.orders(world.app, "g1")) if o.tag not in tags_before]
    assert new and new[0].tag is not None and new[0].tag.startswith(f"{PAIR}|grid-init-"), [
        o.tag for o in new
    ]
    assert int(new[0].tag.rsplit("-", 1)[1]) > seq
    assert [e["kind"] for e in _show(world, "g1")["history"]].count("grid_placed") == 2
