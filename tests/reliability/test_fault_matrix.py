"""Issue 17, fault matrix: manual live orders (services.trading.Trader -> LiveExecutor) under every fault.

Per fault: no order twice on the venue, every venue order and fill in the store after the product's
reconciliation, the connection test names the fault while it lasts and Online (or the lasting cause)
after, and the audit log holds exactly the orders the caller was told about, with the status it was told.

Two settings differ from production, both shortening waits the faults never need: the executor settles
1 s after an uncertain send (production: the receive window + 1 s = 11 s; no fault here serves a request
more than LATE_MS - CLIENT_TIMEOUT_MS = 0.5 s after the client gave up), and the private client gives
up after 1.5 s (production: 30 s) so that a held request is a real client-side timeout.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import ccxt
import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.integration.simtools import SimAdmin
from tests.reliability.agreement import compare
from tests.reliability.counters import Counters
from tests.reliability.env import add_online, app_on, now_ms, requests_since, sim_key, sim_orders
from tests.reliability.faults import CLIENT_TIMEOUT_MS, SCENARIOS, VENUE, Env, Gateway, Scenario
from tests.reliability.settings import scaled
from tradewarden.adapters.execution.live import LiveConfig, LiveExecutor
from tradewarden.adapters.store.models import AuditEvent, Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services import trading
from tradewarden.services.app import App
from tradewarden.services.connections import checks
from tradewarden.services.errors import UserError
from tradewarden.services.vault_session import VaultSession
from tradewarden.sim import ThreadedSim

CATEGORY = "fault matrix: manual live orders"
ORDERS = scaled(4, 24)  # per fault; 14 faults x 24 = 336 faulted live orders in the long run
WINDOW_S = float(scaled(2, 20))  # how long a timed fault (down, skew, revoked, IP) lasts
PAIR = "BTC/USDT"
PRICE = Decimal(50000)
SETTLE_S = 1.0
# What a caller may see instead of an order: the exchange's own error (e.g. the book read failed), a
# refusal by the guard (e.g. the connection tested not Online) or a user error. Anything else is a bug.
EXPECTED_ERRORS = (ccxt.BaseError, trading.OrderRefused, UserError)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, App, VaultSession]]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1717).start()
    gateway = Gateway(sim.url)
    gateway.start()
    admin = SimAdmin(sim.url)
    admin.call("POST", "/_sim/market", {"venue": VENUE, "symbol": PAIR, "price": float(PRICE)})
    try:
        for app in app_on(Path(tmp_path_factory.mktemp("faults")) / "twhome"):
            yield Env(sim, admin, gateway), app, VaultSession.open(app, Secret(PASSPHRASE))
    finally:
        gateway.stop()
        sim.stop()


def _quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Trader's LiveExecutor with SETTLE_S (see the module doc); everything else as in production."""

    def make(*args: Any, **kwargs: Any) -> LiveExecutor:
        kwargs["config"] = LiveConfig(settle_s=SETTLE_S)
        return LiveExecutor(*args, **kwargs)

    monkeypatch.setattr(trading, "LiveExecutor", make)


def _ticket(i: int) -> trading.OrderTicket:
    # two in three fill at once (market), one in three rests under the market (limit)
    if i % 3 == 2:
        return trading.OrderTicket(PAIR, "buy", Decimal("0.001"), "limit", PRICE * Decimal("0.8"))
    return trading.OrderTicket(PAIR, "buy" if i % 2 else "sell", Decimal("0.001"))


def _test_status(app: App, name: str) -> str:
    [report] = checks.check_connections(app, Secret(PASSPHRASE), [name])
    return report.status


async def _run(
    app: App, vault: VaultSession, env: Env, name: str, scenario: Scenario
) -> tuple[list[Any], str | None, dict[str, int], dict[str, int]]:
    """Place ORDERS orders while the fault lasts; (results, status mid-fault, reconcile counts, outcomes)."""
    async with trading.trader(app, vault, name) as trader:
        client = await vault.private_client(trader.hub, name)
        client.timeout = CLIENT_TIMEOUT_MS
        guarded = await trader.executor(paper=False)
        # made before the fault, as a warm server has it
        live = await cast(trading.LazyLive, guarded.executor)._live()
        spacing = WINDOW_S / (ORDERS + 1) if scenario.timed else 0.05

        async def one(i: int) -> Any:
            await asyncio.sleep(i * spacing)
            try:
                return await trader.place(_ticket(i))
            except Exception as exc:
                return exc

        scenario.start(env)
        tasks = [asyncio.create_task(one(i)) for i in range(ORDERS)]
        during = None
        if scenario.timed:
            await asyncio.sleep(WINDOW_S / 2)
            if scenario.during:
                during = await asyncio.to_thread(_test_status, app, name)
            await asyncio.sleep(WINDOW_S / 2)
            scenario.end(env)
        results = list(await asyncio.gather(*tasks))
        scenario.end(env)
        counts: dict[str, int] = {}
        if scenario.after == "online" or any(
            o.status in ("pending", "unknown") for o in live.ledger.orders()
        ):
            counts = await live.reconcile([PAIR], bot=trader.bot)
        return results, during, counts, dict(live.outcomes)


def _audit(app: App, connection_id: str) -> list[AuditEvent]:
    with app.store.session() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.connection_id == connection_id)))
        session.expunge_all()
        return rows


@pytest.mark.timeout(600)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_manual_live_orders_under_fault(
    scenario: Scenario,
    env: tuple[Env, App, VaultSession],
    reliability: Counters,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim_env, app, vault = env
    admin = sim_env.admin
    _quick_settle(monkeypatch)
    key = sim_key(admin, VENUE)
    sim_env.api_key = key["apiKey"]
    name = f"Fault {SCENARIOS.index(scenario):02d}"
    connection_id = add_online(app, name, VENUE, key, sim_env.gateway.url)
    started, gated = now_ms(), sim_env.gateway.served
    sim_env.gateway.order_log.clear()
    try:
        results, during, counts, outcomes = asyncio.run(_run(app, vault, sim_env, name, scenario))
    finally:
        scenario.end(sim_env)
        sim_env.gateway.rate = 0.0
    after = _test_status(app, name)

    log = requests_since(admin, VENUE, started)
    faulted = sum(1 for r in log if r.get("fault") or int(r["status"]) >= 400)
    faulted += sim_env.gateway.served - gated
    agreement = compare(app.store, connection_id, sim_orders(admin, VENUE, key["apiKey"]))
    placed = [r for r in results if isinstance(r, tuple)]
    errors = [r for r in results if isinstance(r, BaseException)]
    unexpected = [repr(e) for e in errors if not isinstance(e, EXPECTED_ERRORS)]

    reliability.count(CATEGORY, "cases", len(results))
    reliability.count(CATEGORY, "faults", faulted)
    reliability.count(CATEGORY, "duplicates", sum(n - 1 for n in agreement.duplicates.values()),
                      why=f"{scenario.name}: {agreement.duplicates}")  # fmt: skip
    lost = agreement.lost + agreement.missing_fills + agreement.unresolved + agreement.phantom
    reliability.count(CATEGORY, "orders_lost", len(lost), why=f"{scenario.name}: {lost[:3]}")

    # the audit log: one order.placed per order the caller was told about, with the status it was told
    events = _audit(app, connection_id)
    told = {view.client_order_id: view.status for view, _mode in placed}
    audited = Counter(json.loads(e.detail_json)["order"]["client_order_id"] for e in events
                      if e.kind == "order.placed")  # fmt: skip
    audited_status = {
        json.loads(e.detail_json)["order"]["client_order_id"]: json.loads(e.detail_json)["order"]["status"]
        for e in events
        if e.kind == "order.placed"
    }
    tested = [json.loads(e.detail_json)["status"] for e in events if e.kind == "connection.tested"]
    with app.store.session() as session:
        stored_status = session.get(Connection, connection_id).status  # type: ignore[union-attr]
    print(
        f"\n[{scenario.name}] {len(results)} orders: {Counter(v.status for v, _m in placed)} placed, "
        f"{Counter(type(e).__name__ for e in errors)} errors; {faulted} requests faulted; send outcomes "
        f"{outcomes}; reconcile {counts}; venue {agreement.venue_orders} orders / {agreement.fills} fills, "
        f"store {agreement.orders}; status mid-fault {during}, after {after}; order requests sent within "
        f"Retry-After (1 s) of a 429/418: {sim_env.gateway.within_retry_after()}"
    )
    assert unexpected == [], unexpected
    assert agreement.problems == [], agreement.problems
    assert faulted > 0, "the fault never hit a request"
    assert dict(audited) == dict.fromkeys(told, 1), (audited, told)
    assert audited_status == told
    if scenario.during:
        assert during == scenario.during
        assert scenario.during in tested
    assert after == scenario.after == stored_status
    assert tested[-1] == after  # the newest connection.tested event says what the connection is
