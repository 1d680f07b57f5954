"""Issue 18 in a real browser: the order ticket on a connection's card, on the simulator.

On MEXC and KuCoin, paper and live: a limit order is placed, seen among the open orders and canceled; a
market order (a quote amount) fills. A live order is sent only after its confirmation. An order below
the exchange's minimum notional is flagged before sending, refused with its reason after, and never
reaches the simulator's order log; so are an unknown pair and any order on a withdraw-enabled key. A
Binance testnet connection is marked "testnet" on its card, its ticket and the portfolio, trades by hand
on the testnet, and its balance is left out of the portfolio total.
On a Binance USD-M perpetual a "Reduce only" sell closes a long and, once flat, the exchange rejects it.

The ticket is shown in English, Italian, Turkish and French with no English sentence left. Every test
runs at 1280×800 and 390×844 (screenshots in test-artifacts/screenshots/), fails on anything wider than
the viewport, and on any browser console error but the 422s of the refusals it provokes, which it
expects one by one.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e.conftest import RESULT_TIMEOUT_MS, Dashboard
from tests.e2e.test_dashboard import HEALTHY, SERVER_IP, WITH_WITHDRAW, api_client, card, go, log_in
from tests.e2e.test_issue10 import LANGUAGES, _no_english
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import PRICE, order_requests, pin_price, sim_orders
from tradewarden.sim import ThreadedSim

LOW = str(PRICE * Decimal("0.8"))  # a buy limit this far below the market rests on the book
REFUSED_422 = r"422 \(Unprocessable"


# -- arranging (through the API) and steps a user takes (through the page) ---------------------------------


def add_connection(
    dash: Dashboard,
    sim: ThreadedSim,
    admin: SimAdmin,
    name: str,
    venue: str,
    permissions: list[str] = HEALTHY,
    testnet: bool = False,
    market: str = "spot",
) -> dict[str, Any]:
    """A simulator key on `venue`, added and tested through the API (kept whatever its test says)."""
    key: dict[str, Any] = admin.key(venue, permissions, SERVER_IP, **({"testnet": True} if testnet else {}))
    body = {
        "name": name,
        "exchange": venue,
        "market": market,
        "endpoint": sim.url,
        "credentials": {f: key[f] for f in ("apiKey", "secret", "password") if key.get(f)},
        "test": True,
        "keep_untested": True,
        **({"testnet": True} if testnet else {}),
    }
    with api_client(dash.server) as client:
        made = client.post("/connections", json=body)
    assert made.status_code == 201, made.text
    return key


def open_ticket(dash: Dashboard, name: str, pair: str = "BTC/USDT") -> Locator:
    """Open the order ticket on the card named `name`; wait for the book and the rules of its `pair`."""
    row = card(dash, name)
    toggle = row.get_by_test_id("connection-trade")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    panel = row.get_by_test_id("trade-panel")
    expect(panel.get_by_test_id("trade-rules")).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    expect(panel.get_by_test_id("trade-pair")).to_have_value(pair)
    expect(panel.get_by_test_id("trade-open-orders")).to_have_attribute("data-count", re.compile(r"\d"))
    return panel


def fill_ticket(
    panel: Locator,
    side: str,
    kind: str,
    amount: str,
    price: str | None = None,
    unit: str = "base",
    mode: str = "paper",
) -> None:
    """Fill the ticket's fields (the radio groups are clicked by their labels, as a user would)."""
    panel.get_by_test_id(f"trade-side-{side}").click()
    panel.get_by_test_id(f"trade-type-{kind}").click()
    panel.get_by_test_id(f"trade-unit-{unit}").click()
    panel.get_by_test_id("trade-amount").fill(amount)
    if price is not None:
        panel.get_by_test_id("trade-price").fill(price)
    panel.get_by_test_id(f"trade-mode-{mode}").click()
    expect(panel.get_by_test_id("trade-mode")).to_have_attribute("data-value", mode)


def send(dash: Dashboard, panel: Locator, live: bool, shot: str | None = None) -> None:
    """Press the ticket's submit button; a live order is sent only through its confirmation dialog."""
    panel.get_by_test_id("trade-submit").click()
    dialog = dash.page.get_by_test_id("confirm-dialog")
    if not live:
        expect(dialog).to_have_count(0)
        return
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("role", "alertdialog")
    if shot:
        dash.shoot(shot)
    dialog.get_by_test_id("confirm-ok").click()
    expect(dialog).to_have_count(0, timeout=RESULT_TIMEOUT_MS)


def placed(panel: Locator, status: str, mode: str) -> str:
    """The order the ticket just placed (its status and mode checked); returns its id."""
    outcome = panel.get_by_test_id("trade-placed")
    expect(outcome).to_have_attribute("data-status", status, timeout=RESULT_TIMEOUT_MS)
    expect(outcome).to_have_attribute("data-mode", mode)
    order_id = outcome.get_attribute("data-order-id")
    assert order_id
    return order_id


def order_row(panel: Locator, table: str, order_id: str) -> Locator:
    """An order's row in the open (`trade-open-orders`) or recent (`trade-recent-orders`) orders."""
    return panel.get_by_test_id(table).locator(f'[data-testid="trade-order-row"][data-order-id="{order_id}"]')


# -- place, see, cancel; fill --------------------------------------------------------------------------


@pytest.mark.parametrize("venue", ["mexc", "kucoin"])
def test_limit_order_is_seen_and_canceled_and_a_market_order_fills_paper_and_live(
    dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin, venue: str
) -> None:
    dashboard.test_name += f"-{venue}"  # both venues' screenshots are kept
    name = f"{venue.upper()} Spot Main"
    key = add_connection(dashboard, sim, sim_admin, name, venue)
    pin_price(sim_admin, venue)
    log_in(dashboard, shoot=False)
    panel = open_ticket(dashboard, name)
    page = dashboard.page

    # Before sending: the book's best bid and ask around the pinned price, the fee rates, the minimum
    # notional and the steps, all stated; paper is the default.
    bid = Decimal(panel.get_by_test_id("trade-bid").get_attribute("data-value") or "0")
    ask = Decimal(panel.get_by_test_id("trade-ask").get_attribute("data-value") or "0")
    assert bid < PRICE * Decimal("1.01") and ask > PRICE * Decimal("0.99") and bid <= ask
    assert Decimal(panel.get_by_test_id("trade-min-notional").get_attribute("data-value") or "0") > 0
    expect(panel.get_by_test_id("trade-fees")).to_contain_text("%")
    expect(panel.get_by_test_id("trade-rules-explained")).to_contain_text("refuses an order worth less than")
    expect(panel.get_by_test_id("trade-mode")).to_have_attribute("data-value", "paper")
    dashboard.shoot(f"{venue}-ticket")

    for mode in ("paper", "live"):
        live = mode == "live"
        # A buy limit 20 % under the market: its value and maker fee are previewed, then it rests.
        fill_ticket(panel, "buy", "limit", "0.001", LOW, mode=mode)
        preview = panel.get_by_test_id("trade-preview")
        expect(preview.get_by_test_id("trade-preview-value")).to_have_attribute("data-value", "40")
        expect(preview.get_by_test_id("trade-preview-fee")).to_contain_text("maker")
        expect(preview.get_by_test_id("trade-problem")).to_have_count(0)
        send(dashboard, panel, live, shot=f"{venue}-{mode}-confirm" if live else None)
        order_id = placed(panel, "open", mode)
        open_row = order_row(panel, "trade-open-orders", order_id)
        expect(open_row).to_have_attribute("data-status", "open")
        expect(open_row).to_have_attribute("data-mode", mode)
        dashboard.shoot(f"{venue}-{mode}-limit-open")
        open_row.get_by_test_id("trade-cancel").click()
        expect(open_row).to_have_count(0, timeout=RESULT_TIMEOUT_MS)
        expect(order_row(panel, "trade-recent-orders", order_id)).to_have_attribute("data-status", "canceled")

        # A market buy for 20 USDT: converted to BTC on the ticket, filled at once.
        fill_ticket(panel, "buy", "market", "20", unit="quote", mode=mode)
        expect(panel.get_by_test_id("trade-price")).to_have_count(0)
        converted = panel.get_by_test_id("trade-preview-amount")
        expect(converted).to_have_attribute("data-value", re.compile(r"^0\.000[34]\d*$"))
        expect(panel.get_by_test_id("trade-preview-fee")).to_contain_text("taker")
        send(dashboard, panel, live)
        filled_id = placed(panel, "closed", mode)
        row = order_row(panel, "trade-recent-orders", filled_id)
        expect(row).to_have_attribute("data-status", "closed")
        assert Decimal(row.get_by_test_id("trade-order-filled").get_attribute("data-value") or "0") > 0
        expect(order_row(panel, "trade-open-orders", filled_id)).to_have_count(0)
        dashboard.shoot(f"{venue}-{mode}-market-filled")

    # Only the two live orders reached the exchange; the paper ones filled against its book, unsent.
    on_exchange = sim_orders(sim_admin, venue, key["apiKey"])
    assert len(on_exchange) == 2, on_exchange
    expect(panel.get_by_test_id("trade-recent-orders")).to_have_attribute("data-count", "4")
    expect(page.get_by_test_id("announcer")).to_contain_text("order placed")


# -- refusals ------------------------------------------------------------------------------------------


def test_refused_orders_say_why_and_never_reach_the_exchange(
    dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    key = add_connection(dashboard, sim, sim_admin, "KuCoin Main", "kucoin")
    withdraw_key = add_connection(dashboard, sim, sim_admin, "KuCoin Withdraw", "kucoin", WITH_WITHDRAW)
    pin_price(sim_admin, "kucoin")
    log_in(dashboard, shoot=False)
    panel = open_ticket(dashboard, "KuCoin Main")
    minimum = panel.get_by_test_id("trade-min-notional").get_attribute("data-value") or ""
    assert Decimal(minimum) > 0

    # Below the minimum notional: flagged before sending, refused with its reason after, live and paper.
    for mode in ("live", "paper"):
        fill_ticket(panel, "buy", "limit", "0.00001", "1000", mode=mode)  # 0.01 USDT
        problem = panel.get_by_test_id("trade-preview").locator('[data-problem="min_notional"]')
        expect(problem).to_contain_text("worth less than the minimum")
        with dashboard.expect_console_error(REFUSED_422):
            send(dashboard, panel, live=mode == "live")
            refusal = panel.get_by_test_id("trade-refusal")
            expect(refusal).to_have_attribute("data-reason", "min_notional", timeout=RESULT_TIMEOUT_MS)
        expect(refusal).to_contain_text("nothing was sent to the exchange")
        expect(refusal.get_by_test_id("trade-refusal-reason")).to_contain_text(
            f"minimum of {Decimal(minimum).normalize():f} USDT"
        )
        expect(panel.get_by_test_id("trade-placed")).to_have_count(0)
        dashboard.shoot(f"min-notional-{mode}")

    # An unknown pair: the ticket says so under the field, and the guard refuses an order on it.
    with dashboard.expect_console_error(REFUSED_422):
        pair = panel.get_by_test_id("trade-pair")
        pair.fill("NOPE/USDT")
        pair.press("Enter")
        expect(panel.get_by_test_id("trade-pair-error")).to_contain_text("has no market NOPE/USDT")
    fill_ticket(panel, "buy", "market", "1", mode="paper")
    with dashboard.expect_console_error(REFUSED_422):
        send(dashboard, panel, live=False)
        expect(panel.get_by_test_id("trade-refusal")).to_have_attribute(
            "data-reason", "pair_not_allowed", timeout=RESULT_TIMEOUT_MS
        )
    expect(panel.get_by_test_id("trade-refusal-reason")).to_contain_text("KuCoin has no market NOPE/USDT")
    dashboard.shoot("unknown-pair")

    # A key that can withdraw: every order on it is refused, paper too, and says what to do.
    withdraw_panel = open_ticket(dashboard, "KuCoin Withdraw")
    expect(withdraw_panel.get_by_test_id("trade-not-online")).to_be_visible()
    fill_ticket(withdraw_panel, "buy", "limit", "0.001", LOW, mode="paper")
    with dashboard.expect_console_error(REFUSED_422):
        send(dashboard, withdraw_panel, live=False)
        refusal = withdraw_panel.get_by_test_id("trade-refusal")
        expect(refusal).to_have_attribute("data-reason", "withdraw_enabled", timeout=RESULT_TIMEOUT_MS)
    expect(refusal).to_contain_text("can withdraw funds")
    dashboard.shoot("withdraw-enabled")

    # None of it reached the exchange: no order, not even an order request, from either key.
    for api_key in (key["apiKey"], withdraw_key["apiKey"]):
        assert sim_orders(sim_admin, "kucoin", api_key) == []
        assert order_requests(sim_admin, "kucoin", api_key) == []
    expect(panel.get_by_test_id("trade-recent-orders")).to_have_attribute("data-count", "0")


# -- reduce only (perpetuals) -----------------------------------------------------------------------------

PERP = "BTC/USDT:USDT"
FUTURES = ["read", "spot_trade", "futures_trade"]


def test_reduce_only_closes_a_perpetual_position_and_never_opens_one(
    dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    """On a Binance USD-M connection (its ticket opens on the perpetual) a live market buy opens a long;
    the same sell with "Reduce only" ticked closes it, tagged in the confirmation and the orders; sent
    again once flat, the exchange rejects it (reduceOnly reached it: a plain sell would open a short)."""
    key = add_connection(dashboard, sim, sim_admin, "Binance Futures", "binance", FUTURES, market="futures")
    pin_price(sim_admin, "binance")
    log_in(dashboard, shoot=False)
    panel = open_ticket(dashboard, "Binance Futures", pair=PERP)
    page = dashboard.page
    box = panel.get_by_test_id("trade-reduce-only")
    expect(box).to_be_visible()
    expect(box).not_to_be_checked()
    expect(panel.get_by_text("it never opens or grows one")).to_be_visible()

    # A long: a live market buy with reduce only off (no tag anywhere).
    fill_ticket(panel, "buy", "market", "0.003", mode="live")
    expect(panel.get_by_test_id("trade-preview-reduce-only")).to_have_count(0)
    send(dashboard, panel, live=True)
    opened = placed(panel, "closed", "live")
    expect(order_row(panel, "trade-recent-orders", opened)).to_have_attribute("data-reduce-only", "false")
    expect(
        order_row(panel, "trade-recent-orders", opened).get_by_test_id("trade-order-reduce-only")
    ).to_have_count(0)

    # Reduce only ticked: the preview and the confirmation say so; the sell closes the long.
    panel.get_by_label("Reduce only").check()
    fill_ticket(panel, "sell", "market", "0.003", mode="live")
    expect(panel.get_by_test_id("trade-preview-reduce-only")).to_have_text("Reduce only")
    panel.get_by_test_id("trade-submit").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text(f"Sell 0.003 BTC of {PERP}")
    expect(dialog).to_contain_text("Reduce only: it can only shrink the open position.")
    dashboard.shoot("reduce-only-confirm")
    dialog.get_by_test_id("confirm-ok").click()
    expect(dialog).to_have_count(0, timeout=RESULT_TIMEOUT_MS)
    closing = placed(panel, "closed", "live")
    assert closing != opened
    row = order_row(panel, "trade-recent-orders", closing)
    expect(row).to_have_attribute("data-reduce-only", "true")
    expect(row.get_by_test_id("trade-order-reduce-only")).to_have_text("Reduce only")
    assert Decimal(row.get_by_test_id("trade-order-filled").get_attribute("data-value") or "0") == Decimal(
        "0.003"
    )
    dashboard.shoot("reduce-only-filled")

    # Flat now: the same reduce-only sell would open a short, so the exchange rejects it.
    expect(box).to_be_checked()
    send(dashboard, panel, live=True)
    rejected = placed(panel, "rejected", "live")
    expect(order_row(panel, "trade-recent-orders", rejected)).to_have_attribute("data-reduce-only", "true")
    on_exchange = sim_orders(sim_admin, "binance", key["apiKey"])
    assert [(o["side"], o["status"]) for o in on_exchange] == [("BUY", "FILLED"), ("SELL", "FILLED")], (
        on_exchange
    )


# -- testnet -------------------------------------------------------------------------------------------


def test_binance_testnet_is_marked_trades_by_hand_and_stays_out_of_the_total(
    dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    add_connection(dashboard, sim, sim_admin, "MEXC Real", "mexc")
    key = add_connection(dashboard, sim, sim_admin, "Binance Play", "binance", testnet=True)
    pin_price(sim_admin, "binance")
    log_in(dashboard, shoot=False)
    page = dashboard.page

    # Marked on its card (and only there, not on the real one).
    play, real = card(dashboard, "Binance Play"), card(dashboard, "MEXC Real")
    expect(play).to_have_attribute("data-testnet", "true")
    expect(play.get_by_test_id("testnet-mark")).to_have_text(re.compile(r"^testnet"))
    expect(real.get_by_test_id("testnet-mark")).to_have_count(0)
    expect(play.get_by_test_id("status-badge")).to_have_attribute("data-status", "online")

    # Its ticket is marked too, and "live" there means the testnet, confirmed as such.
    panel = open_ticket(dashboard, "Binance Play")
    expect(panel.get_by_test_id("trade-testnet-mark")).to_be_visible()
    expect(panel.get_by_test_id("trade-mode-live")).to_contain_text("Testnet")
    fill_ticket(panel, "buy", "limit", "0.001", LOW, mode="live")
    expect(panel.get_by_test_id("trade-submit")).to_contain_text("testnet")
    panel.get_by_test_id("trade-submit").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text("testnet")
    dashboard.shoot("testnet-confirm")
    dialog.get_by_test_id("confirm-ok").click()
    order_id = placed(panel, "open", "live")
    open_row = order_row(panel, "trade-open-orders", order_id)
    expect(open_row).to_contain_text("Testnet")
    dashboard.shoot("testnet-order-open")
    open_row.get_by_test_id("trade-cancel").click()
    expect(open_row).to_have_count(0, timeout=RESULT_TIMEOUT_MS)
    assert len(sim_orders(sim_admin, "binance", key["apiKey"])) == 1  # on the simulator's testnet host

    # The portfolio: the testnet's value is shown apart, marked, and not in the total.
    go(dashboard, "portfolio")
    total = page.get_by_test_id("portfolio-total")
    expect(total).to_have_attribute("data-value", re.compile(r"\d"), timeout=RESULT_TIMEOUT_MS)
    parts = {
        name: page.locator(f'[data-testid="portfolio-connection"][data-connection-name="{name}"]')
        for name in ("MEXC Real", "Binance Play")
    }
    expect(parts["Binance Play"]).to_have_attribute("data-testnet", "true")
    expect(parts["Binance Play"].get_by_test_id("testnet-mark")).to_be_visible()
    expect(parts["MEXC Real"].get_by_test_id("testnet-mark")).to_have_count(0)
    real_total = Decimal(
        parts["MEXC Real"].get_by_test_id("portfolio-connection-total").get_attribute("data-value") or ""
    )
    play_total = Decimal(
        parts["Binance Play"].get_by_test_id("portfolio-connection-total").get_attribute("data-value") or ""
    )
    assert real_total > 0 and play_total > 0
    assert Decimal(total.get_attribute("data-value") or "") == real_total
    testnet_note = page.get_by_test_id("portfolio-testnet-total")
    assert Decimal(testnet_note.get_attribute("data-value") or "") == play_total
    expect(testnet_note).to_contain_text("not counted in the total")
    left_out = page.locator('[data-testid="portfolio-excluded-item"][data-connection-name="Binance Play"]')
    expect(left_out).to_contain_text("Testnet account")
    dashboard.shoot("portfolio-testnet")


# -- languages -----------------------------------------------------------------------------------------


def test_ticket_in_every_language(dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin) -> None:
    """The ticket with an open order, a flagged amount and the live confirmation, in en/it/tr/fr: a
    screenshot each, nothing wider than the viewport, no English catalogue sentence outside English."""
    add_connection(dashboard, sim, sim_admin, "MEXC Main", "mexc")
    add_connection(dashboard, sim, sim_admin, "Binance Play", "binance", testnet=True)
    pin_price(sim_admin, "mexc")
    with api_client(dashboard.server) as client:
        order = {
            "pair": "BTC/USDT",
            "side": "buy",
            "amount": "0.001",
            "type": "limit",
            "price": LOW,
            "paper": True,
        }
        made = client.post("/connections/MEXC Main/orders", json=order)
        assert made.status_code == 201 and made.json()["status"] == "open", made.text
    log_in(dashboard, shoot=False)
    page = dashboard.page
    panel = open_ticket(dashboard, "MEXC Main")
    expect(panel.get_by_test_id("trade-open-orders")).to_have_attribute("data-count", "1")
    fill_ticket(panel, "sell", "limit", "0,0000001", LOW)  # a decimal comma, below every minimum
    problems = panel.get_by_test_id("trade-problem")
    expect(problems).to_have_count(3)  # amount step, minimum amount, minimum notional
    for locale in LANGUAGES:
        page.get_by_test_id("language-select").select_option(locale)
        expect(page.locator("html")).to_have_attribute("lang", locale)
        expect(card(dashboard, "Binance Play").get_by_test_id("testnet-mark")).to_be_visible()
        dashboard.shoot(f"ticket-{locale}")
        _no_english(dashboard, locale, "order ticket")
        panel.get_by_test_id("trade-mode-live").click()
        panel.get_by_test_id("trade-submit").click()
        dialog = page.get_by_test_id("confirm-dialog")
        expect(dialog).to_be_visible()
        dashboard.shoot(f"confirm-{locale}")
        _no_english(dashboard, locale, "live confirmation")
        dialog.get_by_test_id("confirm-cancel").click()
        expect(dialog).to_have_count(0)
        panel.get_by_test_id("trade-mode-paper").click()
    # Nothing was sent: Cancel in the confirmation sends no order.
    expect(panel.get_by_test_id("trade-placed")).to_have_count(0)
    expect(panel.get_by_test_id("trade-refusal")).to_have_count(0)
