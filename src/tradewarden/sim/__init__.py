"""Exchange simulator: an independent implementation of the exchanges' own wire protocols.

Imports nothing from the rest of tradewarden (enforced by tests/unit/test_sim_isolation.py).
"""

from .keys import ApiKey, KeyStore
from .server import SimServer, ThreadedSim, is_loopback
from .venue import SimRequest, Venue, VenueError, route

__all__ = [
    "ApiKey",
    "KeyStore",
    "SimRequest",
    "SimServer",
    "ThreadedSim",
    "Venue",
    "VenueError",
    "is_loopback",
    "route",
]
