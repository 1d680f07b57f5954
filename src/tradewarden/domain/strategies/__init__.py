"""Pure strategies (DCA, grid) and the risk rules they share; see base.py for the engine contract."""

from __future__ import annotations

from typing import Any

from tradewarden.domain.strategies.base import Strategy
from tradewarden.domain.strategies.dca import DCA
from tradewarden.domain.strategies.grid import GRID

# name -> strategy object (parse, initial_state, decide, on_fill, on_cancel, triggers, snapshot)
STRATEGIES: dict[str, Strategy[Any, Any]] = {"dca": DCA, "grid": GRID}

__all__ = ["DCA", "GRID", "STRATEGIES"]
