"""Binance: spot (api.binance.com incl. sapi), USD-M futures (fapi), COIN-M exchangeInfo (dapi)."""

from __future__ import annotations

from typing import Any

from ..venue import SimRequest, Venue, route

SPOT = "api.binance.com"
FAPI = "fapi.binance.com"
DAPI = "dapi.binance.com"


class BinanceVenue(Venue):
    """Binance as documented in binance-spot-api-docs and the derivatives docs."""

    name = "binance"
    hosts = (SPOT, FAPI, DAPI)
    weight_limit = 1200
    weight_window_s = 60.0
    ban_seconds = 120.0

    @route("GET", SPOT, "/api/v3/ping")
    async def ping(self, req: SimRequest) -> Any:
        """Connectivity test."""
        return {}

    @route("GET", SPOT, "/api/v3/time")
    async def time(self, req: SimRequest) -> Any:
        """Server time."""
        return {"serverTime": req.now_ms}


VENUE = BinanceVenue
