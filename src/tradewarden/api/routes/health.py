"""Health (no auth) and server information."""

from __future__ import annotations

import socket

from fastapi import APIRouter, Request

from tradewarden import __version__
from tradewarden.api.auth import ReadPrincipal, StateDep, client_address
from tradewarden.api.errors import ERROR_RESPONSES
from tradewarden.api.schemas import HealthOut, ServerInfoOut
from tradewarden.services import public_ip, simulator

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="Liveness (no token needed)")
async def health() -> HealthOut:
    """Answers while the server runs."""
    # async on purpose: it answers from the event loop, never queued behind threadpool work (connection
    # tests, vault unlocks), and touches no database session or lock.
    return HealthOut(status="ok", version=__version__)


def outbound_address() -> str | None:
    """The address of the interface this host would use to reach the internet (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decision only, nothing is transmitted
            address: str = probe.getsockname()[0]
            return address
    except OSError:
        return None


@router.get(
    "/server-info",
    response_model=ServerInfoOut,
    responses=ERROR_RESPONSES,
    summary="Addresses for IP whitelists",
)
def server_info(request: Request, _: ReadPrincipal, state: StateDep) -> ServerInfoOut:
    """The address to whitelist (this server's public IP, when the configured lookup can tell), its
    outbound interface's address, the caller's address, and the simulator `up` runs."""
    public = public_ip.public_address(state.app.settings)
    return ServerInfoOut(
        version=__version__,
        outbound_address=outbound_address(),
        client_address=client_address(request),
        note="Exchanges see your public IP: behind NAT or a proxy, whitelist that address instead.",
        public_address=public.address,
        public_address_source=public.source,
        public_address_note=public.note,
        public_address_note_code={"lookup": "ip.found", "off": "ip.off"}.get(public.source, "ip.failed"),
        simulator_url=simulator.recorded_url(state.app.settings.home_dir),
    )
