"""The live stream hears what services publish on the event bus, and nothing polls the audit table."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from websockets.asyncio.client import ClientConnection, connect

from tests.integration.api._serverfixture import TwServer, running_server
from tradewarden.services import events

STEP_S = 20.0
IDLE_S = 1.5  # three times the old 0.5 s audit poll


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TwServer]:
    with running_server(tmp_path / "home", event_feed=True) as running:
        yield running


async def _next(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(STEP_S):
        message = json.loads(await ws.recv())
    assert isinstance(message, dict)
    return message


async def test_stream_receives_service_events_without_polling_the_audit_table(server: TwServer) -> None:
    audit_reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "audit_events" in statement and statement.lstrip().upper().startswith("SELECT"):
            audit_reads.append(statement)

    engine = server.app.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        headers = {"Authorization": f"Bearer {server.read_token}"}
        async with connect(f"{server.ws_url}/api/v1/stream", additional_headers=headers, proxy=None) as ws:
            assert (await _next(ws))["type"] == "hello"
            order = events.OrderEvent(
                connection_id="c-1",
                bot="dca-1",
                symbol="BTC/USDT",
                side="buy",
                order_type="market",
                amount=Decimal("0.0015"),
                price=None,
                status="filled",
                client_order_id="dca-1-42",
            )
            fill = events.FillEvent(
                connection_id="c-1",
                bot="dca-1",
                symbol="BTC/USDT",
                side="buy",
                amount=Decimal("0.0015"),
                price=Decimal("61234.5"),
                fee=Decimal("0.09185175"),
                fee_currency="USDT",
                paper=True,
            )

            def service_thread() -> None:  # services run in worker threads under the API
                events.publish(server.app.store, order)
                events.publish(server.app.store, fill)
                events.publish(server.app.store, events.BotEvent(bot="dca-1", status="running"))

            worker = threading.Thread(target=service_thread)
            worker.start()
            worker.join(STEP_S)
            got = [await _next(ws) for _ in range(3)]
            assert [m["type"] for m in got] == ["order", "fill", "bot"]
            assert got[0]["client_order_id"] == "dca-1-42" and got[0]["amount"] == "0.0015"
            assert got[1]["price"] == "61234.5" and got[1]["paper"] is True
            assert (got[2]["bot"], got[2]["status"]) == ("dca-1", "running")
            await asyncio.sleep(IDLE_S)  # an open, idle stream
        assert audit_reads == []  # no poll of the audit table while the stream was open
    finally:
        event.remove(engine, "before_cursor_execute", count)
