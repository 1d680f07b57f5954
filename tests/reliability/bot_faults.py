"""Fault scenarios for BOTS: a gateway that breaks order requests and, less often, every other request,
the scenarios (the manual matrix's, plus the IP fault on a venue that names it), and a runner driver.

Streams: these scenarios break REST; the stream faults (ws_drop / ws_stall / listenkey_expire) are
injected by test_bot_stream_faults.py into a runner with streams on.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web
from sqlalchemy import select

from tests.reliability.agreement import Agreement
from tests.reliability.counters import Counters
from tests.reliability.faults import HOLD_MS, SCENARIOS, Env, Gateway, Scenario, _ip_removed, _ip_restored
from tradewarden.adapters.store.models import OrderRow
from tradewarden.services.app import App
from tradewarden.services.bots import service

PUBLIC_SHARE = 0.3  # a gateway fault hits this share of its rate on requests other than order requests


class BotGateway(Gateway):
    """The manual matrix's gateway, also breaking the other requests (ticker, book, balance, markets)
    at PUBLIC_SHARE of the rate: a paper bot only ever reads prices and books, and must meet the fault."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        is_order = "/api/v3/order" in request.path.lower()
        if not is_order and self.left > 0 and self._rng.random() < self.rate * PUBLIC_SHARE:
            return await self._break_any(request)
        return await super()._handle(request)

    async def _break_any(self, request: web.Request) -> web.StreamResponse:
        self.left -= 1
        self.served += 1
        kind = self.kind
        if kind.startswith("http_"):
            status = int(kind[5:])
            headers = {"Retry-After": "1"} if status in (418, 429) else {}
            return web.Response(status=status, text=f"<html>{status}</html>", headers=headers)
        if kind == "bad_json":
            return web.Response(status=200, body=b'{"symbol": "BTCUS', content_type="application/json")
        if kind in ("late", "timeout"):  # a read held past the client's timeout
            await asyncio.sleep(HOLD_MS / 1000)
            return web.Response(status=504, text="held")
        return await self._break(kind, request)


@dataclass(frozen=True)
class BotScenario:
    """A manual-matrix scenario run against bots; `venue` where it runs, `stops`: the bots stop for good."""

    base: Scenario
    venue: str = "binance"
    stops: bool = False

    @property
    def name(self) -> str:
        """The scenario's name (with the venue when not Binance)."""
        return self.base.name if self.venue == "binance" else f"{self.base.name} ({self.venue})"


# KuCoin names an untrusted IP (400006): the connection turns ip_not_allowed, the bots pause, and they
# resume when the whitelist has the server again. (Binance's -2015 cannot tell it from a bad key.)
IP_NAMED = Scenario(
    "IP removed from whitelist", _ip_removed, _ip_restored, during="ip_not_allowed", timed=True
)

BOT_SCENARIOS: tuple[BotScenario, ...] = (
    # a key the venue refuses (revoked, or Binance's -2015 for an IP) stops the bots: the user acts
    *(BotScenario(s, stops=s.during == "invalid_key") for s in SCENARIOS),
    BotScenario(IP_NAMED, venue="kucoin"),
)

# One cycle: enter at the base price, add on at -2 % and -4 %, take profit above the average.
BASE = Decimal(50000)
CYCLE = (BASE, BASE * Decimal("0.978"), BASE * Decimal("0.958"), BASE * Decimal("1.01"))


def bot_orders(app: App, name: str) -> list[OrderRow]:
    """The bot's stored orders (detached from their session)."""
    bot = service.get(app, name)
    with app.store.session() as session:
        rows = list(session.scalars(select(OrderRow).where(OrderRow.bot == service.bot_key(bot.id))))
        session.expunge_all()
        return rows


@dataclass(frozen=True)
class BotRow:
    """What one fault row left of its paper and live bot: their orders, each (bot, tag)'s count, and the
    paper orders left unfinished."""

    orders: dict[str, list[OrderRow]]
    tags: Counter[tuple[str | None, str | None]]
    paper_unfinished: list[str]


def count_bot_row(
    reliability: Counters,
    category: str,
    row: str,
    app: App,
    agreement: Agreement,
    bots: tuple[str, str],
    faults: int,
) -> BotRow:
    """Count one row of a paper and a live bot (`bots`) in the reliability table (`category` has a
    `{mode}` field): cases per mode, faults, duplicates at the venue or by tag, live orders lost and paper
    orders left unfinished."""
    paper, live = bots
    orders = {name: bot_orders(app, name) for name in bots}
    tags = Counter((o.bot, o.tag) for rows in orders.values() for o in rows)
    paper_unfinished = [o.client_order_id for o in orders[paper] if o.status in ("pending", "unknown")]
    lost = agreement.lost + agreement.missing_fills + agreement.unresolved + agreement.phantom
    for mode, name in (("paper", paper), ("live", live)):
        reliability.count(category.format(mode=mode), "cases", len(orders[name]))
    reliability.count(category.format(mode="live"), "faults", faults)
    dupes = sum(n - 1 for n in agreement.duplicates.values()) + sum(n - 1 for n in tags.values())
    reliability.count(category.format(mode="live"), "duplicates", dupes, why=f"{row}: {agreement.duplicates}")
    reliability.count(category.format(mode="live"), "orders_lost", len(lost), why=f"{row}: {lost[:3]}")
    reliability.count(category.format(mode="paper"), "orders_lost", len(paper_unfinished),
                      why=f"{row}: paper orders left unfinished {paper_unfinished[:3]}")  # fmt: skip
    return BotRow(orders, tags, paper_unfinished)


def reached(figures: dict[str, Any] | None, open_orders: int, cycle: int, step: int) -> bool:
    """True when a DCA bot did what the cycle's `step`-th price asks and has no order in flight."""
    if figures is None or open_orders or int(figures["open_orders"]):
        return False
    done = (
        int(figures["groups"]) >= cycle + 1 and Decimal(figures["position"]) > 0,
        int(figures["addons_total"]) >= 2 * cycle + 1,
        int(figures["addons_total"]) >= 2 * cycle + 2,
        int(figures["trades"]) >= cycle + 1,
    )
    return done[step]


__all__ = ["BASE", "BOT_SCENARIOS", "CYCLE", "BotGateway", "BotScenario", "Env", "reached"]
