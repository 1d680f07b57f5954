"""Balances: spot wallets and USD-margined perpetual accounts, as Settlements for the matching engine.

Every movement is double-entry: the synthetic book trades against the MARKET account and fees go to
the FEES account, so the sum of each asset over all accounts never changes (property-tested).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from .market import now_ms
from .matching import Instrument, Order, OrderRejected, Reject, Side

ZERO = Decimal(0)
# Entry prices and margins are kept to 8 decimals so PnL and margin sums stay exact (no 28-digit rounding).
# Rounding is always named: ccxt sets the thread's decimal context to ROUND_HALF_UP whenever it formats
# a number, and the simulator often shares a process with ccxt (tests, `tradewarden up`).
EIGHT = Decimal("0.00000001")
MARKET = "__market__"
FEES = "__fees__"
CLEARING = "__clearing__"
INSURANCE = "__insurance__"

DEFAULT_SPOT_BALANCES: dict[str, Decimal] = {
    "USDT": Decimal("10000"),
    "BTC": Decimal("1"),
    "ETH": Decimal("10"),
}
DEFAULT_FUTURES_BALANCES: dict[str, Decimal] = {"USDT": Decimal("10000")}


@dataclass
class Balance:
    """Free and locked amounts of one asset."""

    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """free + locked."""
        return self.free + self.locked


class Wallets:
    """Asset balances per account (one Wallets per venue market)."""

    def __init__(self, defaults: dict[str, Decimal] | None = None) -> None:
        self.defaults = dict(DEFAULT_SPOT_BALANCES if defaults is None else defaults)
        self._acc: dict[str, dict[str, Balance]] = {}
        self.lock = threading.RLock()

    def ensure(self, account: str, initial: dict[str, Decimal] | None = None) -> dict[str, Balance]:
        """The account's balances, created with `initial` (or the defaults) on first use."""
        acc = self._acc.get(account)
        if acc is None:
            # the MARKET/CLEARING/FEES sinks start empty; only real accounts get the demo balances
            start = ({} if account.startswith("__") else self.defaults) if initial is None else initial
            acc = {a: Balance(Decimal(v)) for a, v in start.items()}
            self._acc[account] = acc
        return acc

    def set(self, account: str, balances: dict[str, Decimal]) -> None:
        """Replace an account's free balances (admin)."""
        self._acc[account] = {a: Balance(Decimal(v)) for a, v in balances.items()}

    def get(self, account: str, asset: str) -> Balance:
        """Balance of one asset (created at zero)."""
        acc = self.ensure(account)
        bal = acc.get(asset)
        if bal is None:
            bal = acc[asset] = Balance()
        return bal

    def accounts(self) -> dict[str, dict[str, Balance]]:
        """All accounts including the MARKET and FEES sinks."""
        return self._acc

    def lock_funds(self, account: str, asset: str, amount: Decimal) -> bool:
        """Move free → locked; False (and no change) when free is short. MARKET may go negative."""
        bal = self.get(account, asset)
        if account not in (MARKET, CLEARING) and bal.free < amount:
            return False
        bal.free -= amount
        bal.locked += amount
        return True

    def unlock(self, account: str, asset: str, amount: Decimal) -> None:
        """Move locked → free."""
        bal = self.get(account, asset)
        bal.locked -= amount
        bal.free += amount

    def transfer(self, src: str, asset: str, amount: Decimal, dst: str, from_locked: bool = False) -> None:
        """Move `amount` of asset from src (free or locked) to dst free."""
        s = self.get(src, asset)
        if from_locked:
            s.locked -= amount
        else:
            s.free -= amount
        self.get(dst, asset).free += amount


class SpotSettlement:
    """Spot: buys lock quote, sells lock base; the fee is taken from what the account receives."""

    def __init__(self, wallets: Wallets, fee_in: str = "received") -> None:
        self.wallets = wallets
        self.fee_in = fee_in  # "received" (Binance default) or "quote"

    def reserve(self, order: Order, inst: Instrument, notional: Decimal, qty: Decimal) -> None:
        """Lock quote for a buy (its notional) or base for a sell (its quantity)."""
        asset, amount = (inst.quote, notional) if order.side is Side.BUY else (inst.base, qty)
        if order.side is Side.SELL and order.qty is not None:
            amount = order.qty
        if not self.wallets.lock_funds(order.account, asset, amount):
            raise OrderRejected(Reject.INSUFFICIENT_BALANCE, f"{asset} {amount}")
        order.locked = amount

    def settle(
        self,
        order: Order,
        inst: Instrument,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        counterparty: str | None,
    ) -> tuple[Decimal, str, Decimal]:
        """Swap base and quote through MARKET (synthetic book) or CLEARING (user vs user), charge the fee."""
        w = self.wallets
        # Each leg of a user-vs-user trade settles on its own against CLEARING, which nets to zero.
        cp = MARKET if counterparty is None else CLEARING
        quote_amt = price * qty
        rate = inst.maker_fee if is_maker else inst.taker_fee
        if order.side is Side.BUY:
            w.transfer(order.account, inst.quote, quote_amt, cp, from_locked=True)
            order.locked -= quote_amt
            w.transfer(cp, inst.base, qty, order.account)
            received_asset, received = inst.base, qty
            if order.price is not None:
                # a buy filled below its limit: give back the lock the rest of the order no longer needs
                excess = order.locked - order.price * (order.remaining - qty)
                if excess > 0:
                    w.unlock(order.account, inst.quote, excess)
                    order.locked -= excess
        else:
            w.transfer(order.account, inst.base, qty, cp, from_locked=True)
            order.locked -= qty
            w.transfer(cp, inst.quote, quote_amt, order.account)
            received_asset, received = inst.quote, quote_amt
        fee_asset = received_asset if self.fee_in == "received" else inst.quote
        fee = (received if fee_asset == received_asset else quote_amt) * rate
        if fee:
            w.transfer(order.account, fee_asset, fee, FEES)
        return fee, fee_asset, ZERO

    def release(self, order: Order, inst: Instrument) -> None:
        """Unlock what a finished order still holds."""
        if order.locked:
            asset = inst.quote if order.side is Side.BUY else inst.base
            self.wallets.unlock(order.account, asset, order.locked)
            order.locked = ZERO


@dataclass
class Position:
    """One-way position: signed quantity (contracts), average entry price and, when isolated, its margin."""

    qty: Decimal = ZERO
    entry: Decimal = ZERO
    realized: Decimal = ZERO
    contract_size: Decimal = Decimal(1)
    isolated: bool = False
    margin: Decimal = ZERO  # isolated only: the part of the wallet standing behind this position
    funding: Decimal = ZERO  # funding received (negative: paid) since the position opened
    opened_ms: int = 0
    updated_ms: int = 0

    def notional(self, price: Decimal) -> Decimal:
        """|qty| × price × contract size."""
        return abs(self.qty) * price * self.contract_size


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of a futures wallet: realized_pnl, commission, funding or insurance (liquidation)."""

    entry_id: int
    account: str
    kind: str
    symbol: str
    amount: Decimal
    asset: str
    time_ms: int
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class PerpAccount:
    """A USD-margined futures account: one settlement asset, leverage and positions per symbol."""

    wallet: Decimal
    asset: str = "USDT"
    order_margin: Decimal = ZERO
    leverage: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)  # symbol -> "isolated" | "cross"
    journal: list[LedgerEntry] = field(default_factory=list)


class PerpSettlement:
    """Linear perpetuals, cross or isolated per symbol; realized PnL, fees and funding settle to the wallet.

    The wallet holds all the account's money; an isolated position's `margin` is the part of it set
    aside for that position (initial margin at entry, plus funding), and its losses stop there: when the
    mark crosses its liquidation price the rest goes to the insurance fund (see perps.PerpRisk). Cross
    positions share what the wallet has beyond isolated margins. `mark_price` (symbol -> price) is set
    by the venue (perps.PerpRisk.mark), so unrealized PnL counts in margin checks.
    """

    def __init__(
        self,
        default_wallet: Decimal = Decimal("10000"),
        asset: str = "USDT",
        default_leverage: int = 20,
        default_margin_mode: str = "cross",
    ) -> None:
        self.default_wallet = default_wallet
        self.asset = asset
        self.default_leverage = default_leverage
        self.default_margin_mode = default_margin_mode
        self.mmr = Decimal("0.004")
        self.accounts: dict[str, PerpAccount] = {}
        self.mark_price: Callable[[str], Decimal] | None = None
        self.clock: Callable[[], int] = now_ms
        self.lock = threading.RLock()
        self._entry_ids = itertools.count(1)
        self.open_positions = 0  # how many positions are open across accounts (a fast "anything to check?")
        #: stream hook: called with each journal entry (funding, insurance, fees, PnL) once written
        self.listeners: list[Callable[[LedgerEntry], None]] = []

    def account(self, name: str, initial: Decimal | None = None) -> PerpAccount:
        """The account, created with `initial` (or the default wallet) on first use."""
        acc = self.accounts.get(name)
        if acc is None:
            acc = self.accounts[name] = PerpAccount(
                self.default_wallet if initial is None else initial, self.asset
            )
        return acc

    def leverage(self, account: str, symbol: str) -> int:
        """Leverage in force for the symbol."""
        return self.account(account).leverage.get(symbol, self.default_leverage)

    def margin_mode(self, account: str, symbol: str) -> str:
        """ "isolated" or "cross" for the symbol (the mode new positions open in)."""
        return self.account(account).margin_type.get(symbol, self.default_margin_mode)

    def set_margin_mode(self, account: str, symbol: str, mode: str) -> None:
        """Switch the symbol's mode; ValueError while a position is open in the other mode."""
        if mode not in ("isolated", "cross"):
            raise ValueError(f"margin mode {mode!r}: use isolated or cross")
        pos = self.account(account).positions.get(symbol)
        if pos is not None and pos.qty and pos.isolated != (mode == "isolated"):
            raise ValueError("a position is open in the other margin mode")
        self.account(account).margin_type[symbol] = mode

    def position(self, account: str, symbol: str, contract_size: Decimal = Decimal(1)) -> Position:
        """The account's position in the symbol (created flat)."""
        acc = self.account(account)
        pos = acc.positions.get(symbol)
        if pos is None:
            pos = acc.positions[symbol] = Position(contract_size=contract_size)
        return pos

    def initial_margin(self, acc: PerpAccount, symbol: str, pos: Position) -> Decimal:
        """Margin a position holds: its isolated margin, or for cross notional at entry / leverage."""
        if pos.isolated:
            return pos.margin
        return pos.notional(pos.entry) / acc.leverage.get(symbol, self.default_leverage)

    def position_margin(self, acc: PerpAccount) -> Decimal:
        """Initial margin held by open positions (isolated margins plus cross notional/leverage)."""
        return sum((self.initial_margin(acc, s, p) for s, p in acc.positions.items() if p.qty), ZERO)

    def isolated_margin(self, acc: PerpAccount) -> Decimal:
        """Sum of isolated position margins."""
        return sum((p.margin for p in acc.positions.values() if p.qty and p.isolated), ZERO)

    def unrealized(self, acc: PerpAccount, symbol: str | None = None, cross_only: bool = False) -> Decimal:
        """Unrealized PnL at mark (all symbols, or one; optionally cross positions only)."""
        if self.mark_price is None:
            return ZERO
        total = ZERO
        for sym, pos in acc.positions.items():
            if pos.qty and (symbol is None or sym == symbol) and not (cross_only and pos.isolated):
                total += (self.mark_price(sym) - pos.entry) * pos.qty * pos.contract_size
        return total

    def wallet_of(self, acc: PerpAccount) -> Decimal:
        """The account's wallet balance (unified-account venues read it from their wallets)."""
        return acc.wallet

    def available(self, acc: PerpAccount) -> Decimal:
        """Wallet + cross unrealized losses − position margin − open-order margin."""
        return (
            self.wallet_of(acc)
            + min(ZERO, self.unrealized(acc, cross_only=True))
            - self.position_margin(acc)
            - acc.order_margin
        )

    def cross_backing(self, account: str) -> Decimal:
        """Wallet beyond isolated margins: the money behind cross positions before their PnL."""
        acc = self.account(account)
        return self.wallet_of(acc) - self.isolated_margin(acc)

    def cross_equity(self, account: str) -> Decimal:
        """Wallet beyond isolated margins, plus cross unrealized PnL."""
        return self.cross_backing(account) + self.unrealized(self.account(account), cross_only=True)

    def maintenance(self, pos: Position, symbol: str) -> Decimal:
        """Maintenance margin of a position at mark (one tier: notional × mmr)."""
        if not pos.qty or self.mark_price is None:
            return ZERO
        return pos.notional(self.mark_price(symbol)) * self.mmr

    def liquidation_price(self, account: str, symbol: str) -> Decimal:
        """Mark at which the position's backing meets its maintenance margin (0: flat or never)."""
        acc = self.account(account)
        pos = acc.positions.get(symbol)
        if pos is None or not pos.qty:
            return ZERO
        if pos.isolated:
            backing = pos.margin
        else:
            # cross: the wallet beyond isolated margins, the other cross positions held at their mark
            others = [(s, p) for s, p in acc.positions.items() if p.qty and not p.isolated and s != symbol]
            backing = self.wallet_of(acc) - self.isolated_margin(acc)
            for s, p in others:
                backing += self.unrealized(acc, s) - self.maintenance(p, s)
        return liquidation_price(pos.qty, pos.entry, backing, self.mmr, pos.contract_size)

    def journal(
        self, account: str, kind: str, symbol: str, amount: Decimal, time_ms: int, **info: Any
    ) -> None:
        """Record one wallet movement (what income/bill endpoints list)."""
        entry = LedgerEntry(next(self._entry_ids), account, kind, symbol, amount, self.asset, time_ms, info)
        self.account(account).journal.append(entry)
        for listener in self.listeners:
            try:
                listener(entry)
            except Exception:  # a stream's failure never fails the ledger
                logging.getLogger("tradewarden.sim").exception("ledger listener failed on %s", kind)

    def credit(
        self, account: str, amount: Decimal, counterparty: str, kind: str, symbol: str, time_ms: int
    ) -> None:
        """Move `amount` (negative: a debit) from the counterparty sink to the wallet; journal it."""
        self.account(account).wallet += amount
        self.account(counterparty, ZERO).wallet -= amount
        self.journal(account, kind, symbol, amount, time_ms)

    def apply_funding(
        self, symbol: str, rate: Decimal, mark: Decimal, time_ms: int, contract_size: Decimal = Decimal(1)
    ) -> None:
        """Charge one funding time to every open position in the symbol (isolated: also its margin)."""
        for name, acc in list(self.accounts.items()):
            pos = acc.positions.get(symbol)
            if name.startswith("__") or pos is None or not pos.qty:
                continue
            amount = (-pos.qty * pos.contract_size * mark * rate).quantize(EIGHT, ROUND_HALF_EVEN)
            if not amount:
                continue
            pos.funding += amount
            if pos.isolated:
                pos.margin += amount
            self.credit(name, amount, MARKET, "funding", symbol, time_ms)
            info = acc.journal[-1].info
            info.update({"rate": rate, "mark": mark, "qty": pos.qty})

    def reserve(self, order: Order, inst: Instrument, notional: Decimal, qty: Decimal) -> None:
        """Lock initial margin for the part of the order that would open or grow a position."""
        acc = self.account(order.account)
        pos = self.position(order.account, order.symbol, inst.contract_size)
        signed = qty if order.side is Side.BUY else -qty
        closing = min(abs(signed), abs(pos.qty)) if pos.qty * signed < 0 else ZERO
        if order.reduce_only:
            if closing <= 0 or (order.qty is not None and order.qty > abs(pos.qty)):
                raise OrderRejected(Reject.REDUCE_ONLY, order.symbol)
            order.locked = ZERO
            return
        opening = abs(signed) - closing
        unit = notional / qty if qty else ZERO
        margin = (opening * unit / self.leverage(order.account, order.symbol)).quantize(
            EIGHT, ROUND_HALF_EVEN
        )
        if margin > self.available(acc):
            raise OrderRejected(Reject.INSUFFICIENT_BALANCE, f"margin {margin}")
        acc.order_margin += margin
        order.locked = margin
        order.extra["_margin_per_qty"] = (margin / qty).quantize(EIGHT, ROUND_HALF_EVEN) if qty else ZERO

    def settle(
        self,
        order: Order,
        inst: Instrument,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        counterparty: str | None,
    ) -> tuple[Decimal, str, Decimal]:
        """Move the position, realize PnL on the reduced part, charge the fee in the settle asset."""
        acc = self.account(order.account)
        pos = self.position(order.account, order.symbol, inst.contract_size)
        lev = self.leverage(order.account, order.symbol)
        now = self.clock()
        signed = qty if order.side is Side.BUY else -qty
        pnl = ZERO
        was_open = pos.qty != 0
        if pos.qty == 0:
            # a new position takes the symbol's margin mode at the moment it opens
            pos.isolated = self.margin_mode(order.account, order.symbol) == "isolated"
            pos.margin = ZERO
            pos.funding = ZERO
            pos.opened_ms = now
        if pos.qty == 0 or pos.qty * signed > 0:
            new_qty = pos.qty + signed
            pos.entry = ((abs(pos.qty) * pos.entry + qty * price) / abs(new_qty)).quantize(
                EIGHT, ROUND_HALF_EVEN
            )
            pos.qty = new_qty
            if pos.isolated:
                pos.margin += (qty * price * inst.contract_size / lev).quantize(EIGHT, ROUND_HALF_EVEN)
        else:
            closed = min(qty, abs(pos.qty))
            direction = Decimal(1) if pos.qty > 0 else Decimal(-1)
            pnl = (price - pos.entry) * closed * direction * inst.contract_size
            if pos.isolated:
                # the closed share of the isolated margin returns to the cross part of the wallet
                pos.margin -= (pos.margin * closed / abs(pos.qty)).quantize(EIGHT, ROUND_HALF_EVEN)
            rest = qty - closed
            if rest > 0:
                pos.qty = rest if order.side is Side.BUY else -rest
                pos.entry = price
                pos.isolated = self.margin_mode(order.account, order.symbol) == "isolated"
                pos.margin = (
                    (rest * price * inst.contract_size / lev).quantize(EIGHT, ROUND_HALF_EVEN)
                    if pos.isolated
                    else ZERO
                )
                pos.funding = ZERO
                pos.opened_ms = now
            else:
                pos.qty += signed
                if pos.qty == 0:
                    pos.entry = ZERO
                    pos.margin = ZERO
        pos.updated_ms = now
        self.open_positions += (pos.qty != 0) - was_open
        # liquidation orders pay no trading fee: the insurance fund takes what is left instead
        rate = ZERO if order.extra.get("liquidation") else (inst.maker_fee if is_maker else inst.taker_fee)
        fee = price * qty * inst.contract_size * rate
        acc.wallet += pnl - fee
        pos.realized += pnl
        # double entry: PnL comes from the counterparty side, fees go to the fee sink
        self.account(MARKET if counterparty is None else CLEARING, ZERO).wallet -= pnl
        self.account(FEES, ZERO).wallet += fee
        if pnl:
            self.journal(order.account, "realized_pnl", order.symbol, pnl, now, order_id=order.order_id)
        if fee:
            self.journal(order.account, "commission", order.symbol, -fee, now, order_id=order.order_id)
        per = order.extra.get("_margin_per_qty", ZERO)
        if per and order.locked > 0:
            used = min(order.locked, per * qty)
            order.locked -= used
            acc.order_margin -= used
        return fee, self.asset, pnl

    def release(self, order: Order, inst: Instrument) -> None:
        """Return unused order margin."""
        if order.locked:
            self.account(order.account).order_margin -= order.locked
            order.locked = ZERO


def liquidation_price(
    qty: Decimal, entry: Decimal, backing: Decimal, mmr: Decimal, contract_size: Decimal = Decimal(1)
) -> Decimal:
    """Mark at which backing + unrealized PnL equals maintenance margin (0 when never reached).

    `backing` is the money standing behind the position apart from its own PnL: its isolated margin,
    or for cross the account's cross equity less the other positions' maintenance margin.
    long:  backing + (P − entry)·q = mmr·P·q  →  P = (entry·q − backing) / (q·(1 − mmr))
    short: backing + (entry − P)·q = mmr·P·q  →  P = (entry·q + backing) / (q·(1 + mmr))
    """
    if qty == 0:
        return ZERO
    q = abs(qty) * contract_size
    one = Decimal(1)
    price = (
        (entry * q - backing) / (q * (one - mmr)) if qty > 0 else (entry * q + backing) / (q * (one + mmr))
    )
    return max(ZERO, price)
