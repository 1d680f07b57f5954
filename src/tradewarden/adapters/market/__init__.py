"""Market data for the whole process: shared public clients, single-flight, cache, rate budgets, feeds."""

from tradewarden.adapters.market.budget import BudgetLimits, WeightBudget
from tradewarden.adapters.market.hub import HubConfig, HubSnapshot, MarketHub

__all__ = ["BudgetLimits", "HubConfig", "HubSnapshot", "MarketHub", "WeightBudget"]
