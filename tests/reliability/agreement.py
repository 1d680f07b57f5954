"""Store versus venue: duplicates, lost orders, phantom orders and missing fills, order by order.

The venue's truth is the simulator's admin view (`GET /_sim/orders`, venue-neutral, with fills); the
store's is the orders and fills tables. Used after every fault scenario and every crash round.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tradewarden.adapters.store.db import Store
from tradewarden.adapters.store.models import FillRow, OrderRow

# The simulator's order states as the store names them (ccxt's unified statuses).
VENUE_STATUS = {
    "NEW": "open",
    "PARTIALLY_FILLED": "open",
    "FILLED": "closed",
    "CANCELED": "canceled",
    "EXPIRED": "expired",
    "REJECTED": "rejected",
}


@dataclass
class Agreement:
    """What differs between the store and the venue (all empty: they agree)."""

    orders: int = 0  # orders the store holds for the connection
    venue_orders: int = 0
    fills: int = 0  # fills the venue holds for them
    duplicates: dict[str, int] = field(default_factory=dict)  # client id -> orders on the venue
    lost: list[str] = field(default_factory=list)  # on the venue, missing or wrong in the store
    phantom: list[str] = field(default_factory=list)  # in the store as placed, not on the venue
    unresolved: list[str] = field(default_factory=list)  # still pending/unknown
    missing_fills: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Every difference as a line."""
        return (
            [f"duplicate {cid} x{n}" for cid, n in self.duplicates.items()]
            + [f"lost: {x}" for x in self.lost]
            + [f"phantom: {x}" for x in self.phantom]
            + [f"unresolved: {x}" for x in self.unresolved]
            + [f"fill missing: {x}" for x in self.missing_fills]
        )


def same_id(venue_number: object, stored: str | None) -> bool:
    """The venue's order number (the admin view's) and the id the store kept are one order: equal, or
    KuCoin's 24 hex digits (creation second, then the number in the last 16)."""
    if stored is None:
        return False
    if str(venue_number) == stored:
        return True
    try:
        return len(stored) == 24 and int(stored[8:], 16) == int(str(venue_number))
    except ValueError:
        return False


def stored(store: Store, connection_id: str) -> tuple[list[OrderRow], dict[str, set[str]]]:
    """The connection's live orders and, per client id, the trade ids of their stored fills."""
    with store.session() as session:
        orders = list(
            session.scalars(
                select(OrderRow).where(OrderRow.connection_id == connection_id, OrderRow.mode == "live")
            )
        )
        session.expunge_all()
        fills: dict[str, set[str]] = {}
        rows = session.execute(
            select(OrderRow.client_order_id, FillRow.trade_id)
            .join(FillRow, FillRow.order_id == OrderRow.id)
            .where(OrderRow.connection_id == connection_id, OrderRow.mode == "live")
        )
        for cid, trade_id in rows:
            fills.setdefault(cid, set()).add(str(trade_id))
    return orders, fills


def compare(store: Store, connection_id: str, venue_orders: list[dict[str, Any]]) -> Agreement:
    """Compare the store's live orders of `connection_id` with the venue's orders of its key."""
    orders, fills = stored(store, connection_id)
    result = Agreement(orders=len(orders), venue_orders=len(venue_orders))
    by_cid = Counter(str(o["clientOrderId"]) for o in venue_orders)
    result.duplicates = {cid: n for cid, n in by_cid.items() if n > 1}
    venue = {str(o["clientOrderId"]): o for o in venue_orders}
    mine = {o.client_order_id: o for o in orders}
    for cid, v in venue.items():
        row = mine.get(cid)
        want = VENUE_STATUS.get(str(v["status"]), str(v["status"]).lower())
        trades = {str(f["tradeId"]) for f in v.get("fills") or []}
        result.fills += len(trades)
        if row is None:
            result.lost.append(f"{cid} on the venue ({v['status']}), not in the store")
            continue
        if row.status in ("pending", "unknown"):
            result.unresolved.append(f"{cid} stored {row.status}, venue {v['status']}")
            continue
        if row.status == "rejected" or row.status != want:
            result.lost.append(f"{cid} stored {row.status}, venue {v['status']}")
        elif not same_id(v["orderId"], row.exchange_order_id) or Decimal(v["executedQty"]) != row.filled:
            result.lost.append(
                f"{cid}: venue {v['orderId']}/{v['executedQty']}, store {row.exchange_order_id}/{row.filled}"
            )
        missing = trades - fills.get(cid, set())
        if missing:
            result.missing_fills.append(f"{cid}: trades {sorted(missing)} not in the store")
    for cid, row in mine.items():
        if cid in venue:
            continue
        if row.status in ("pending", "unknown"):
            result.unresolved.append(f"{cid} stored {row.status}, not on the venue")
        elif row.status != "rejected":
            result.phantom.append(f"{cid} stored {row.status}, the venue has no such order")
    return result
