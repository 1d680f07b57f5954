"""The store's DecimalAmount column and the orders table on SQLite and PostgreSQL: amounts come back
exactly, floats and over-precise amounts are refused, (connection, client order id) is unique."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from tests.pg import pg_available, pg_schema_url
from tradewarden.adapters.execution.base import OrderRequest
from tradewarden.adapters.execution.ledger import OrderLedger
from tradewarden.adapters.store.db import Store, migrate
from tradewarden.adapters.store.models import OrderRow, PaperBalance

EXACT = [
    Decimal("0.000000000000000001"),
    Decimal("12345678901234567890.123456789012345678"),
    Decimal("60123.45"),
    Decimal("-7.5"),
    Decimal(0),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        made = Store(f"sqlite:///{tmp_path / 'amounts.db'}")
        migrate(made.engine)
        yield made
        made.dispose()
        return
    if not pg_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432: SQLite only")
    with pg_schema_url() as url:
        made = Store(url)
        migrate(made.engine)
        yield made
        made.dispose()


def test_amounts_round_trip_exactly(any_store: Store) -> None:
    with any_store.session() as session:
        for i, amount in enumerate(EXACT):
            session.add(PaperBalance(account="a", currency=f"C{i}", total=amount, used=Decimal(0)))
    with any_store.session() as session:
        got = {r.currency: r.total for r in session.query(PaperBalance).all()}
    assert [got[f"C{i}"] for i in range(len(EXACT))] == EXACT
    assert all(isinstance(v, Decimal) for v in got.values())


@pytest.mark.parametrize(
    ("bad", "error"),
    [(0.1, "Decimal, not float"), (Decimal("0.0000000000000000001"), "more than 18 decimals")],
)
def test_floats_and_over_precise_amounts_are_refused(any_store: Store, bad: object, error: str) -> None:
    with pytest.raises(StatementError, match=error), any_store.session() as session:
        session.add(PaperBalance(account="a", currency="X", total=bad, used=Decimal(0)))
        session.flush()


def test_client_order_ids_unique_per_connection(any_store: Store) -> None:
    ledger = OrderLedger(any_store, "conn-a", "binance", "live")
    first = ledger.new_pending(OrderRequest("BTC/USDT", "buy", "market", Decimal("0.001"), bot="b"))
    second = ledger.new_pending(OrderRequest("BTC/USDT", "buy", "market", Decimal("0.001"), bot="b"))
    assert first.client_order_id != second.client_order_id
    assert second.client_order_id[-10:] == "0000000002"
    # the same id on another connection is fine; twice on one connection is not
    other = OrderLedger(any_store, "conn-b", "binance", "live")
    assert other.new_pending(
        OrderRequest("BTC/USDT", "buy", "market", Decimal(1), bot="b")
    ).client_order_id == (first.client_order_id)
    with pytest.raises(IntegrityError), any_store.session() as session:
        session.add(
            OrderRow(
                connection_id="conn-a",
                mode="live",
                exchange="binance",
                seq=1,
                client_order_id=first.client_order_id,
                symbol="BTC/USDT",
                side="buy",
                type="market",
                amount=Decimal(1),
                reduce_only=False,
                status="pending",
                filled=Decimal(0),
                cost=Decimal(0),
                fee=Decimal(0),
                attempts=0,
                reconciled=False,
            )
        )
        session.flush()
