"""Stream infrastructure on a minimal venue: upgrade routing, topics on the clock, engine events, faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import websockets

from tradewarden.sim import SimServer
from tradewarden.sim.ledger import SpotSettlement, Wallets
from tradewarden.sim.matching import Engine, EngineEvent, Instrument, OrdType, Side
from tradewarden.sim.streams import StreamConn, StreamVenue, stream
from tradewarden.sim.venue import Venue

from .helpers import admin, advance, recv_json, recv_until, virtual_clock, ws_url

HOST = "stream.example.test"


class EchoStreams(StreamVenue):
    """A toy protocol: {"sub": "clock"} gets one frame per tick, {"sub": "orders"} the engine's events."""

    @stream(HOST, "/ws")
    @stream(HOST, "/ws/{name}")
    async def ws(self, conn: StreamConn) -> None:
        conn.send({"hello": conn.path_params.get("name", "")})
        async for text, msg in conn.json_messages():
            if msg is None:
                conn.send({"error": f"not json: {text[:20]}"})
            elif msg.get("sub") == "clock":
                conn.subscribe("clock")
                conn.send({"ok": "clock"})
            elif msg.get("sub") == "orders":
                conn.subscribe("orders", wrap=lambda t: '{"wrapped":' + t + "}")
                conn.send({"ok": "orders"})
            elif msg.get("close"):
                conn.send({"bye": True})
                conn.close(4000, "asked")

    def stream_tick(self, now_ms: int, prev_ms: int) -> None:
        self.publish("clock", {"now": now_ms, "prev": prev_ms})

    def stream_event(self, ev: EngineEvent) -> None:
        self.publish("orders", {"kind": ev.kind, "id": ev.order.order_id, "status": ev.order.status}, ev.t0)

    def stream_fault(self, kind: str) -> int:
        self.publish("clock", {"fault": kind})
        return 1


class EchoVenue(EchoStreams, Venue):
    name = "echo"
    hosts = ("api.example.test", HOST)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.wallets = Wallets()
        self.spot = Engine(self.market, SpotSettlement(self.wallets, fee_in="quote"), name="spot")
        self.spot.add_instrument(Instrument("BTCUSDT", "BTC/USDT", "BTC", "USDT"))
        self.engines = [self.spot]


@pytest.fixture
async def echo_sim() -> AsyncIterator[SimServer]:
    async with SimServer(host="127.0.0.1", port=0, seed=3, venues=[EchoVenue]) as server:
        yield server


def _url(sim: SimServer, path: str = "/ws") -> str:
    return ws_url(sim.url, f"wss://{HOST}{path}")


async def test_upgrade_routes_by_host_and_path(echo_sim: SimServer) -> None:
    async with websockets.connect(_url(echo_sim, "/ws/abc")) as ws:
        assert await recv_json(ws) == {"hello": "abc"}
        await ws.send("garbage")
        assert (await recv_json(ws))["error"].startswith("not json")
    with pytest.raises(websockets.InvalidStatus) as err:
        async with websockets.connect(_url(echo_sim, "/nope")):
            pass
    assert err.value.response.status_code == 404


async def test_clock_drives_public_topic(echo_sim: SimServer) -> None:
    await virtual_clock(echo_sim.url)
    async with websockets.connect(_url(echo_sim)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"sub": "clock"}))
        assert await recv_json(ws) == {"ok": "clock"}
        await asyncio.sleep(0.1)  # the hub notes the frozen time first
        await advance(echo_sim.url, 100)
        first = await recv_json(ws)
        await advance(echo_sim.url, 250)
        second = await recv_json(ws)
        assert second["now"] - first["now"] == 250 and second["prev"] == first["now"]
    # a frozen clock sends nothing: after the client leaves, the topic is gone too
    view = await admin(echo_sim.url, "GET", "/_sim/streams")
    assert view["venues"]["echo"]["topics"] == 0


async def test_engine_event_reaches_subscriber_and_close_after_queue(echo_sim: SimServer) -> None:
    venue = echo_sim.venues["echo"]
    assert isinstance(venue, EchoVenue)
    async with websockets.connect(_url(echo_sim)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"sub": "orders"}))
        await recv_json(ws)
        venue.wallets.ensure("acct", {"USDT": Decimal(100000)})
        venue.spot.new_order("acct", "BTCUSDT", Side.BUY, OrdType.MARKET, qty=Decimal("0.01"))
        kinds = [(await recv_json(ws))["wrapped"]["kind"] for _ in range(2)]
        assert kinds[0] == "new" and kinds[1] == "trade"
        await ws.send(json.dumps({"close": True}))
        assert await recv_json(ws) == {"bye": True}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
    view = await admin(echo_sim.url, "GET", "/_sim/streams")
    assert view["event_frames"] >= 1 and view["latency_ms"]["p99"] is not None


async def test_ws_drop_cuts_connection(echo_sim: SimServer) -> None:
    async with websockets.connect(_url(echo_sim)) as ws:
        await recv_json(ws)
        got = await admin(echo_sim.url, "POST", "/_sim/faults", {"venue": "echo", "kind": "ws_drop"})
        assert got["dropped"] == 1
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is None  # no close frame: a network drop


async def test_ws_stall_holds_frames_and_pongs(echo_sim: SimServer) -> None:
    async with websockets.connect(_url(echo_sim), ping_interval=None) as ws:
        await recv_json(ws)
        await admin(echo_sim.url, "POST", "/_sim/faults", {"venue": "echo", "kind": "ws_stall", "ms": 600})
        await ws.send("x")  # the answer is held for the stall
        pong = await ws.ping()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(pong), 0.3)
        msg = await recv_json(ws, 5)  # released when the stall ends
        assert msg["error"].startswith("not json")
        await ws.send("y")
        assert (await recv_json(ws, 5))["error"].startswith("not json")


async def test_listenkey_expire_fault_calls_venue(echo_sim: SimServer) -> None:
    async with websockets.connect(_url(echo_sim)) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"sub": "clock"}))
        await recv_json(ws)
        got = await admin(echo_sim.url, "POST", "/_sim/faults", {"venue": "echo", "kind": "listenkey_expire"})
        assert got["expired"] == 1
        assert await recv_until(ws, lambda m: "fault" in m) == {"fault": "listenkey_expire"}
