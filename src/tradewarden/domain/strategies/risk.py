"""Risk presets, the margin limit and the liquidation guard (pure, Decimal).

A preset fills in the DCA settings the user did not give (the user overrides any of them) and caps the
leverage. Without a preset the strategy's neutral defaults apply and the leverage cap is balanced's.

The margin limit caps all the capital a bot may commit: the base order and every add-on at the
leverage, worst case, all of them filled. Settings whose worst case exceeds it are refused before the
bot starts, with the figure. On futures, settings whose add-ons (or stop loss) lie beyond the estimated
liquidation price of the position they would add to are refused, saying where liquidation would be.

Liquidation (isolated margin, each order posting notional / leverage): a long of Q base at average A
with margin M is liquidated where its equity M + Q (P - A) falls to the maintenance margin mmr Q P:
P = (Q A - M) / (Q (1 - mmr)); a short where M + Q (A - P) = mmr Q P: P = (M + Q A) / (Q (1 + mmr)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal

from tradewarden.domain.strategies.base import ONE, SettingsError

D = Decimal


@dataclass(frozen=True, slots=True)
class RiskPreset:
    """One risk level's documented values (settings keys and the leverage cap)."""

    name: str
    summary: str
    max_leverage: Decimal
    addon_count: int
    addon_deviation_pct: Decimal
    addon_step_scale: Decimal
    addon_volume_scale: Decimal
    addon_min_improvement_pct: Decimal
    take_profit_pct: Decimal
    stop_loss_pct: Decimal
    cooldown_s: int
    recovery_drawdown_pct: Decimal
    recovery_margin_pct: Decimal
    recovery_exit_pct: Decimal
    deep_zone_from_pct: Decimal

    def values(self) -> dict[str, object]:
        """The preset as `--set` values (every field but name, summary and max_leverage)."""
        skip = {"name", "summary", "max_leverage"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


PRESETS: Mapping[str, RiskPreset] = {
    "conservative": RiskPreset(
        name="conservative",
        summary="few, widely spaced add-ons; early Recovery Mode; low leverage",
        max_leverage=D(2),
        addon_count=4,
        addon_deviation_pct=D(3),
        addon_step_scale=D("1.2"),
        addon_volume_scale=D("1.2"),
        addon_min_improvement_pct=D("0.5"),
        take_profit_pct=D("1.5"),
        stop_loss_pct=D(25),
        cooldown_s=900,
        recovery_drawdown_pct=D(8),
        recovery_margin_pct=D(60),
        recovery_exit_pct=D("0.3"),
        deep_zone_from_pct=D(9),
    ),
    "balanced": RiskPreset(
        name="balanced",
        summary="moderate add-ons and leverage; Recovery Mode at 12 % drawdown",
        max_leverage=D(5),
        addon_count=5,
        addon_deviation_pct=D(2),
        addon_step_scale=D("1.3"),
        addon_volume_scale=D("1.5"),
        addon_min_improvement_pct=D("0.3"),
        take_profit_pct=D(1),
        stop_loss_pct=D(30),
        cooldown_s=300,
        recovery_drawdown_pct=D(12),
        recovery_margin_pct=D(75),
        recovery_exit_pct=D("0.2"),
        deep_zone_from_pct=D(10),
    ),
    "aggressive": RiskPreset(
        name="aggressive",
        summary="many close add-ons growing fast; late Recovery Mode; high leverage",
        max_leverage=D(10),
        addon_count=7,
        addon_deviation_pct=D("1.5"),
        addon_step_scale=D("1.4"),
        addon_volume_scale=D("1.7"),
        addon_min_improvement_pct=D("0.1"),
        take_profit_pct=D("0.8"),
        stop_loss_pct=D(40),
        cooldown_s=60,
        recovery_drawdown_pct=D(20),
        recovery_margin_pct=D(90),
        recovery_exit_pct=D(0),
        deep_zone_from_pct=D(15),
    ),
}
DEFAULT_MAX_LEVERAGE = PRESETS["balanced"].max_leverage


def preset(name: str | None) -> RiskPreset | None:
    """The preset called `name` (None: no preset); an unknown name is a SettingsError."""
    if name is None:
        return None
    found = PRESETS.get(name.strip().lower())
    if found is None:
        raise SettingsError("risk", name, f"must be one of {' | '.join(PRESETS)}")
    return found


def preset_table() -> list[dict[str, str]]:
    """The presets as rows of strings (for `--help` and the docs): one row per setting, one column each."""
    rows: list[dict[str, str]] = []
    keys = ["max_leverage", *PRESETS["balanced"].values()]
    for key in keys:
        row = {"setting": key}
        for name, p in PRESETS.items():
            row[name] = str(getattr(p, key))
        rows.append(row)
    return rows


def check_margin_limit(worst_case: Decimal, margin_limit: Decimal | None, what: str) -> None:
    """Refuse settings whose worst-case committed capital exceeds the margin limit, naming both."""
    if margin_limit is None:
        return
    if worst_case > margin_limit:
        raise SettingsError(
            "margin_limit",
            margin_limit,
            f"the worst case commits {worst_case.normalize():f} ({what}), above the margin limit "
            f"{margin_limit.normalize():f}; raise the limit or lower the amounts",
        )


def liquidation_price(long: bool, qty: Decimal, avg: Decimal, margin: Decimal, mmr: Decimal) -> Decimal:
    """Estimated liquidation price of an isolated position (formula in the module docstring)."""
    if long:
        return max(Decimal(0), (qty * avg - margin) / (qty * (ONE - mmr)))
    return (margin + qty * avg) / (qty * (ONE + mmr))


def beyond(long: bool, price: Decimal, limit: Decimal) -> bool:
    """Whether `price` is at or past `limit` in the adverse direction (below for a long)."""
    return price <= limit if long else price >= limit
