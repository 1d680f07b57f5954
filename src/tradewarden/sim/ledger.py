"""Balances: spot wallets and USD-margined perpetual accounts, as Settlements for the matching engine.

Every movement is double-entry: the synthetic book trades against the MARKET account and fees go to
the FEES account, so the sum of each asset over all accounts never changes (property-tested).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from .matching import Instrument, Order, OrderRejected, Reject, Side

ZERO = Decimal(0)
# Entry prices and margins are kept to 8 decimals so PnL and margin sums stay exact (no 28-digit rounding).
EIGHT = Decimal("0.00000001")
MARKET = "__market__"
FEES = "__fees__"
CLEARING = "__clearing__"

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
    """One-way position: signed quantity (contracts) and average entry price."""

    qty: Decimal = ZERO
    entry: Decimal = ZERO
    realized: Decimal = ZERO
    contract_size: Decimal = Decimal(1)

    def notional(self, price: Decimal) -> Decimal:
        """|qty| × price × contract size."""
        return abs(self.qty) * price * self.contract_size


@dataclass
class PerpAccount:
    """A USD-margined futures account: one settlement asset, leverage and positions per symbol."""

    wallet: Decimal
    asset: str = "USDT"
    order_margin: Decimal = ZERO
    leverage: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)


class PerpSettlement:
    """Linear perpetuals: margin = notional / leverage; realized PnL and fees settle to the wallet.

    Set `mark_price` (symbol -> price) once the engine exists, so unrealized PnL counts in margin checks.
    """

    def __init__(
        self, default_wallet: Decimal = Decimal("10000"), asset: str = "USDT", default_leverage: int = 20
    ) -> None:
        self.default_wallet = default_wallet
        self.asset = asset
        self.default_leverage = default_leverage
        self.accounts: dict[str, PerpAccount] = {}
        self.mark_price: Callable[[str], Decimal] | None = None
        self.lock = threading.RLock()

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

    def position(self, account: str, symbol: str, contract_size: Decimal = Decimal(1)) -> Position:
        """The account's position in the symbol (created flat)."""
        acc = self.account(account)
        pos = acc.positions.get(symbol)
        if pos is None:
            pos = acc.positions[symbol] = Position(contract_size=contract_size)
        return pos

    def position_margin(self, acc: PerpAccount) -> Decimal:
        """Initial margin held by open positions, at their entry price."""
        return sum(
            (
                p.notional(p.entry) / acc.leverage.get(s, self.default_leverage)
                for s, p in acc.positions.items()
                if p.qty
            ),
            ZERO,
        )

    def unrealized(self, acc: PerpAccount, symbol: str | None = None) -> Decimal:
        """Unrealized PnL at mark (all symbols, or one)."""
        if self.mark_price is None:
            return ZERO
        total = ZERO
        for sym, pos in acc.positions.items():
            if pos.qty and (symbol is None or sym == symbol):
                total += (self.mark_price(sym) - pos.entry) * pos.qty * pos.contract_size
        return total

    def available(self, acc: PerpAccount) -> Decimal:
        """Wallet + unrealized losses − position margin − open-order margin."""
        return acc.wallet + min(ZERO, self.unrealized(acc)) - self.position_margin(acc) - acc.order_margin

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
        margin = (opening * unit / self.leverage(order.account, order.symbol)).quantize(EIGHT)
        if margin > self.available(acc):
            raise OrderRejected(Reject.INSUFFICIENT_BALANCE, f"margin {margin}")
        acc.order_margin += margin
        order.locked = margin
        order.extra["_margin_per_qty"] = (margin / qty).quantize(EIGHT) if qty else ZERO

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
        signed = qty if order.side is Side.BUY else -qty
        pnl = ZERO
        if pos.qty == 0 or pos.qty * signed > 0:
            new_qty = pos.qty + signed
            pos.entry = ((abs(pos.qty) * pos.entry + qty * price) / abs(new_qty)).quantize(EIGHT)
            pos.qty = new_qty
        else:
            closed = min(qty, abs(pos.qty))
            direction = Decimal(1) if pos.qty > 0 else Decimal(-1)
            pnl = (price - pos.entry) * closed * direction * inst.contract_size
            rest = qty - closed
            if rest > 0:
                pos.qty = rest if order.side is Side.BUY else -rest
                pos.entry = price
            else:
                pos.qty += signed
                if pos.qty == 0:
                    pos.entry = ZERO
        fee = price * qty * inst.contract_size * (inst.maker_fee if is_maker else inst.taker_fee)
        acc.wallet += pnl - fee
        pos.realized += pnl
        # double entry: PnL comes from the counterparty side, fees go to the fee sink
        self.account(MARKET if counterparty is None else CLEARING, ZERO).wallet -= pnl
        self.account(FEES, ZERO).wallet += fee
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
