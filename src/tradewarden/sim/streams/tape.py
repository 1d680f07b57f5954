"""What happened on the public market between two clock readings (trades for the trade streams)."""

from __future__ import annotations

from ..market import TAPE_SLOT_MS, PairMarket, PublicTrade

MAX_TRADES = 200  # per symbol per tick: a long clock jump sends only the tape's last trades


def new_trades(pm: PairMarket, prev_ms: int, now_ms: int) -> list[PublicTrade]:
    """Trades with prev_ms < time <= now_ms, oldest first: the synthetic tape plus users' fills."""
    first_slot = prev_ms // TAPE_SLOT_MS + 1
    last_slot = now_ms // TAPE_SLOT_MS
    first_slot = max(first_slot, last_slot - MAX_TRADES + 1)
    out = [pm.synthetic_trade(s) for s in range(first_slot, last_slot + 1)]
    users = [t for t in pm._user_trades if prev_ms < t.time_ms <= now_ms]
    if users:
        out += users
        out.sort(key=lambda t: (t.time_ms, t.trade_id))
    return out[-MAX_TRADES:]
