"""The server's startup reconciliation of manual live orders when one exchange is down: `tradewarden
serve` (the real console process) starts and answers all the same, the connection on the venue that is
up is reconciled (its crash rows resolved, `order.reconciled`), and the one on the venue that is down is
audited as `order.reconcile_failed` without a secret, its rows left exactly as they were (fail closed)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSPHRASE
from tests.integration.api.conftest import cli_process, free_port, make_app
from tests.integration.simtools import SimAdmin
from tests.reliability.counters import Counters
from tests.reliability.crash_rows import never_sent, rewind_to_pending, stored
from tests.reliability.env import add_online, sim_key
from tests.reliability.test_crash_serve import _env
from tradewarden.adapters.execution.live import NEVER_PLACED
from tradewarden.adapters.vault.secret import Secret
from tradewarden.config import Settings
from tradewarden.services import tokens, trading
from tradewarden.services.app import App, open_app
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

CATEGORY = "startup reconcile: one venue down"
UP, DOWN = "binance", "mexc"
PRICE = Decimal(50000)
WITHIN_S = 60.0


@pytest.fixture
def sim() -> Iterator[ThreadedSim]:
    running = ThreadedSim(host="127.0.0.1", port=0, seed=1723).start()
    admin = SimAdmin(running.url)
    for venue in (UP, DOWN):
        admin.call("POST", "/_sim/market", {"venue": venue, "symbol": "BTC/USDT", "price": float(PRICE)})
    try:
        yield running
    finally:
        running.stop()


async def _placed(app: App, vault: VaultSession, name: str) -> str:
    """One manual market buy, placed as `trade buy` places it; its client order id."""
    async with trading.trader(app, vault, name) as trader:
        view, _mode = await trader.place(trading.OrderTicket("BTC/USDT", "buy", Decimal("0.001")))
        assert view.status == "closed", view
        return view.client_order_id


def _event(base: str, token: str, kind: str, connection: str) -> dict[str, Any]:
    """The first `kind` audit event on `connection`, polled through the API (AssertionError on timeout)."""
    deadline = time.monotonic() + WITHIN_S
    with httpx.Client(base_url=base, trust_env=False, timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip
        while time.monotonic() < deadline:
            page = client.get("/api/v1/audit", params={"kind": kind, "connection": connection})
            assert page.status_code == 200, page.text
            if page.json()["items"]:
                found: dict[str, Any] = page.json()["items"][-1]
                return found
            time.sleep(0.25)
    raise AssertionError(f"no {kind} on {connection} within {WITHIN_S} s of the server's start")


@pytest.mark.timeout(300)
def test_one_venue_down_at_start_neither_stops_the_server_nor_the_others(
    sim: ThreadedSim, tmp_path: Path, reliability: Counters
) -> None:
    admin = SimAdmin(sim.url)
    home = tmp_path / "twhome"
    app = make_app(home)
    keys = {venue: sim_key(admin, venue) for venue in (UP, DOWN)}
    ids = {venue: add_online(app, f"{venue} main", venue, keys[venue], sim.url) for venue in (UP, DOWN)}
    token = tokens.create_token(app, "reader", "read")[1].reveal()
    vault = VaultSession.open(app, Secret(PASSPHRASE))
    rows: dict[str, tuple[str, str]] = {}
    for venue in (UP, DOWN):
        placed = asyncio.run(_placed(app, vault, f"{venue} main"))
        rewind_to_pending(app.store, placed)  # the venue has it; the store never heard the answer
        rows[venue] = (placed, never_sent(app.store, ids[venue], venue))  # and one that never left
    before = {cid: stored(app.store, cid) for cid in rows[DOWN]}
    app.close()
    admin.venue(DOWN, down=True)
    reliability.count(CATEGORY, "faults")
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        args = ["serve", "--port", str(port), "--monitor-interval", "3600"]
        with cli_process(args, _env(home), tmp_path, "serve") as server:
            server.wait_for_health(base, timeout_s=60)  # the server starts although mexc is down
            done = _event(base, token, "order.reconciled", f"{UP} main")
            failed = _event(base, token, "order.reconcile_failed", f"{DOWN} main")
            assert httpx.get(f"{base}/api/v1/health", trust_env=False, timeout=5).status_code == 200
            assert server.stop() in (0, -signal.SIGTERM), server.describe()
            logs = server.stdout() + server.stderr()
    finally:
        admin.venue(DOWN, down=False)
    reliability.count(CATEGORY, "cases", 2)
    detail = done["detail"]
    assert (done["actor"], detail["trigger"]) == ("startup", "startup"), done
    assert (detail["orders"], detail["updated"], detail["never_placed"], detail["unreachable"]) == (
        2,
        1,
        1,
        0,
    )
    placed, lost = rows[UP]
    app = open_app(Settings(home=home, database_url=None))
    try:
        up_rows = {cid: stored(app.store, cid) for cid in rows[UP]}
        down_rows = {cid: stored(app.store, cid) for cid in rows[DOWN]}
    finally:
        app.close()
    wrong = []
    if not (up_rows[placed][0] == "closed" and up_rows[placed][2] == Decimal("0.001") and up_rows[placed][3]):
        wrong.append(f"{placed}: {up_rows[placed]}")
    if up_rows[lost][:2] != ("rejected", NEVER_PLACED):
        wrong.append(f"{lost}: {up_rows[lost]}")
    if down_rows != before:  # not guessed: exactly as they were
        wrong.append(f"{DOWN} rows changed: {before} -> {down_rows}")
    reliability.count(CATEGORY, "orders_lost", len(wrong), why=str(wrong))
    assert wrong == []
    assert failed["actor"] == "startup" and failed["detail"]["trigger"] == "startup", failed
    assert failed["detail"]["error"] and failed["detail"]["outcome"], failed
    secrets = [keys[v][f] for v in (UP, DOWN) for f in ("apiKey", "secret") if keys[v].get(f)]
    leaked = [s[:4] for s in secrets if s in json.dumps(failed) or s in json.dumps(done) or s in logs]
    reliability.count(CATEGORY, "secrets_leaked", len(leaked), why=str(leaked))
    assert leaked == []
