"""`tradewarden trade reconcile`: a connection's manual live orders brought up to date with the venue by
hand, on the rows a crash leaves (tests/reliability/crash_rows.py), through the real CLI and simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import Cli
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import add_connection, cli_json, pin_price, sim_orders
from tests.reliability.crash_rows import never_sent, rewind_to_pending, stored
from tradewarden.adapters.execution.live import NEVER_PLACED
from tradewarden.adapters.store.models import AuditEvent, Connection
from tradewarden.config import Settings
from tradewarden.services.app import App, open_app
from tradewarden.sim import ThreadedSim

VENUE = "mexc"


@pytest.fixture
def home_app(cli: Cli) -> Iterator[App]:
    """The CLI's store, opened beside it (to make the rows a crash leaves and to read the audit)."""
    app = open_app(Settings(home=cli.home, database_url=None))
    try:
        yield app
    finally:
        app.close()


def _audit(app: App, kind: str) -> list[dict[str, Any]]:
    with app.store.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id))
        return [
            {"actor": r.actor, "connection": r.connection_name, **json.loads(r.detail_json)} for r in rows
        ]


def test_trade_reconcile_resolves_what_a_crash_left_and_says_so(
    cli: Cli, home_app: App, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    assert cli("init").code == 0
    key = add_connection(cli, threaded_sim, sim_admin, "Main", VENUE)
    pin_price(sim_admin, VENUE)
    placed = cli_json(cli("trade", "buy", "Main", "BTC/USDT", "20", "--quote", "--json"))
    assert placed["status"] == "closed"
    with home_app.store.session() as session:
        connection_id = session.scalars(select(Connection.id).where(Connection.name == "Main")).one()
    rewind_to_pending(home_app.store, placed["client_order_id"])  # died before the answer was stored
    lost = never_sent(home_app.store, connection_id, VENUE)  # died before the send
    assert stored(home_app.store, placed["client_order_id"])[0] == "pending"

    first = cli_json(cli("trade", "reconcile", "Main", "--json"))
    assert first["connection"] == "Main" and first["ok"] is True, first
    assert (first["orders"], first["updated"], first["never_placed"], first["unreachable"]) == (2, 1, 1, 0)
    assert first["changed"] == 2 and first["fills"] >= 1 and first["added"] == 0, first
    status, _error, filled, fills = stored(home_app.store, placed["client_order_id"])
    assert (status, filled) == ("closed", Decimal(placed["filled"])) and fills >= 1
    assert stored(home_app.store, lost)[:2] == ("rejected", NEVER_PLACED)
    venue = {o["clientOrderId"] for o in sim_orders(sim_admin, VENUE, key["apiKey"])}
    assert placed["client_order_id"] in venue and lost not in venue  # nothing was sent by reconciling

    again = cli_json(cli("trade", "reconcile", "Main", "--json"))
    assert (again["orders"], again["changed"], again["ok"]) == (0, 0, True), again
    events = _audit(home_app, "order.reconciled")
    assert [(e["connection"], e["trigger"], e["orders"], e["never_placed"]) for e in events] == [
        ("Main", "manual", 2, 1),
        ("Main", "manual", 0, 0),
    ]
    table = cli("trade", "reconcile", "Main")
    assert table.code == 0 and "0 manual live orders looked up" in table.stdout, table.stdout
    helped = cli("trade", "reconcile", "--help")
    assert helped.code == 0 and 'tradewarden trade reconcile "MEXC Spot Main" --json' in helped.stdout


def test_trade_reconcile_on_a_venue_that_is_down_changes_nothing_and_fails(
    cli: Cli, home_app: App, threaded_sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    assert cli("init").code == 0
    key = add_connection(cli, threaded_sim, sim_admin, "Down", VENUE)
    pin_price(sim_admin, VENUE)
    with home_app.store.session() as session:
        connection_id = session.scalars(select(Connection.id).where(Connection.name == "Down")).one()
    lost = never_sent(home_app.store, connection_id, VENUE)
    sim_admin.venue(VENUE, down=True)
    try:
        failed = cli("trade", "reconcile", "Down", "--json")
    finally:
        sim_admin.venue(VENUE, down=False)
    assert failed.code == 1 and failed.stdout == "", failed
    assert "could not reconcile the manual orders of Down" in failed.stderr
    assert "stay as they were" in failed.stderr
    assert stored(home_app.store, lost)[0] == "pending"  # fail closed: not guessed to be never placed
    (event,) = _audit(home_app, "order.reconcile_failed")
    assert event["connection"] == "Down" and event["trigger"] == "manual" and event["error"], event
    assert key["secret"] not in json.dumps(event) and key["apiKey"] not in json.dumps(event)
    assert _audit(home_app, "order.reconciled") == []
