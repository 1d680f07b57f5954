"""Issue 15 in a real browser: a paper bot created from an Online connection on the simulator.

From the connection's card: "Create a bot", the form (paper by default, the risk preset in plain words),
the bot in the Bots list, its page: started, driven by the server's own bot runner (the `serve` jobs:
market hub and bot runner), its first fill in the fills table and as an entry marker on the candle
chart with the average-price and trigger lines; then stopped with its orders canceled, and its position
closed at market (an exit marker). Screenshots at 1280×800 and 390×844; any console error or anything
wider than the viewport fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSPHRASE
from tests.e2e.conftest import ADMIN_TOKEN_NAME, RESULT_TIMEOUT_MS, Dashboard, Server, _require_tools
from tests.e2e.test_dashboard import HEALTHY, SERVER_IP, api_client, card, expect_badge, go, log_in
from tests.e2e.test_issue10 import I18N, LANGUAGES, _entries, english_sentences
from tests.e2e.test_trade_ticket import add_connection
from tests.integration.simtools import SimAdmin
from tests.integration.trading.conftest import pin_price
from tests.serving import serve_in_thread
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api import background
from tradewarden.api.app import create_app
from tradewarden.api.server import ServeOptions, build_state, preflight
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import open_app
from tradewarden.services.vault_access import init_vault
from tradewarden.sim import ThreadedSim

BOT = "BTC DCA paper"
BOTS_MESSAGES = I18N.parent / "bots" / "messages.ts"  # the Bots pages' keys, spread into each catalogue
FIRST_FILL_TIMEOUT_MS = 60_000  # the runner's rounds are 0.5 s apart; a loaded machine gets room


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The e2e server (tests/e2e/conftest.py) with the jobs `tradewarden serve` adds: the market hub and
    the bot runner, stepping every half second."""
    _require_tools()
    monkeypatch.setenv("TRADEWARDEN_BOT_INTERVAL_S", "0.5")
    home = tmp_path / "twhome"
    settings = Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings)
    try:
        passphrase = Secret(PASSPHRASE)
        assert init_vault(app, passphrase)
        _view, token = tokens.create_token(app, ADMIN_TOKEN_NAME, "admin")
        options = ServeOptions(host="127.0.0.1", port=0, monitor_interval_s=3600.0)
        assert preflight(app, passphrase, options) == []
        state = build_state(app, passphrase, options)
        state.background_jobs += [background.market_hub, background.bot_runner]
        with serve_in_thread(create_app(state), name="tradewarden-e2e-bots") as url:
            yield Server(url=url, home=home, app=app, token=token.reveal())
    finally:
        app.close()


def english_left(dash: Dashboard, locale: str) -> dict[str, str]:
    """English sentences (of the catalogue and of the Bots pages' block) the page shows in `locale`."""
    blocks = re.split(r"^export const bots(\w\w)\b", BOTS_MESSAGES.read_text(encoding="utf-8"), flags=re.M)
    ours = {name.lower(): _entries(block) for name, block in zip(blocks[1::2], blocks[2::2], strict=True)}
    pieces = dict(english_sentences(locale))
    for key, text in ours["en"].items():
        if ours[locale].get(key) != text:
            piece = max(re.split(r"\{\w+\}", text), key=len).strip(" .,:;()")
            if len(piece) >= 12 and piece.count(" ") >= 2:
                pieces[key] = piece
    shown = dash.page.locator("body").inner_text()
    return {key: piece for key, piece in pieces.items() if piece in shown}


def test_create_a_paper_bot_see_its_first_fill_on_the_chart_and_stop_it(
    dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    page = dashboard.page
    log_in(dashboard, shoot=False)
    pin_price(sim_admin, "mexc")
    add_connection(dashboard, sim, sim_admin, "MEXC Main", "mexc", HEALTHY)
    assert SERVER_IP == ["127.0.0.1"]
    row = card(dashboard, "MEXC Main")
    expect_badge(row, "Online", timeout=RESULT_TIMEOUT_MS)

    # "Create a bot" on the Online connection's card opens the form with that connection chosen.
    row.get_by_test_id("connection-create-bot").click()
    form = page.get_by_test_id("bot-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("bot-connection")).to_have_value("MEXC Main")
    expect(page.get_by_test_id("bot-mode-choice")).to_have_attribute("data-value", "paper")
    expect(page.get_by_test_id("bot-risk")).to_have_value("balanced")
    explained = page.get_by_test_id("bot-risk-explained")
    expect(explained).to_contain_text("Recovery Mode at a 12 % drawdown")
    expect(explained).to_contain_text("Up to 5 add-ons")
    expect(page.get_by_test_id("bot-set-base_order")).to_have_value("100")
    page.get_by_test_id("bot-name").fill(BOT)
    # Live shows what it means before anything is sent; back to paper.
    page.get_by_test_id("bot-mode-choice-live").click()
    expect(page.get_by_test_id("bot-live-note")).to_contain_text("real funds")
    page.get_by_test_id("bot-mode-choice-paper").click()
    expect(page.get_by_test_id("bot-live-note")).to_have_count(0)
    page.get_by_test_id("bot-advanced").locator("summary").click()
    expect(page.get_by_test_id("bot-set-take_profit_pct")).to_have_attribute("placeholder", "1")
    dashboard.shoot("bot-form")
    page.get_by_test_id("bot-submit").click()

    # The bot's page: paper, not started yet.
    view = page.get_by_test_id("bot-view")
    expect(view).to_have_attribute("data-status", "created", timeout=RESULT_TIMEOUT_MS)
    expect(view.get_by_test_id("bot-mode")).to_have_attribute("data-mode", "paper")
    expect(page.get_by_test_id("page-title")).to_have_text(BOT)

    # In the list: status, pair, paper, Recovery Mode badge.
    go(dashboard, "bots")
    listed = page.locator(f'[data-testid="bot-row"][data-bot-name="{BOT}"]')
    expect(listed).to_have_attribute("data-status", "created")
    expect(listed).to_have_attribute("data-mode", "paper")
    expect(listed).to_contain_text("BTC/USDT")
    expect(listed.get_by_test_id("bot-recovery")).to_be_visible()
    dashboard.shoot("bot-list")

    # Start it: the server's runner enters at once (a market buy, filled on paper).
    listed.get_by_test_id("bot-link").click()
    expect(page.get_by_test_id("bot-start")).to_be_visible()
    page.get_by_test_id("bot-start").click()
    expect(view).to_have_attribute("data-status", "running", timeout=RESULT_TIMEOUT_MS)
    fills = page.get_by_test_id("bot-fill-row")
    expect(fills.first).to_have_attribute("data-kind", "entry", timeout=FIRST_FILL_TIMEOUT_MS)
    chart = page.get_by_test_id("bot-chart")
    expect(chart).to_have_attribute(
        "data-marker-kinds", re.compile(r"(^|,)entry(,|$)"), timeout=RESULT_TIMEOUT_MS
    )
    assert int(chart.get_attribute("data-bars") or "0") > 0
    expect(chart.locator("canvas").first).to_be_visible()
    expect(chart).to_have_attribute("data-lines", re.compile(r"average"))
    expect(page.get_by_test_id("bot-line-average")).to_be_visible()
    expect(page.get_by_test_id("bot-view-average")).not_to_have_text("—")
    expect(page.get_by_test_id("bot-order-row").first).to_have_attribute("data-status", "closed")
    dashboard.shoot("bot-first-fill")

    # Stop, canceling its orders (the dialog offers leaving them too).
    page.get_by_test_id("bot-stop").click()
    dialog = page.get_by_test_id("bot-stop-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("bot-stop-leave")).to_be_visible()
    dashboard.shoot("bot-stop-dialog")
    dialog.get_by_test_id("bot-stop-cancel").click()
    expect(dialog).to_have_count(0)
    expect(view).to_have_attribute("data-status", "stopped", timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_test_id("bot-status-reason")).to_contain_text("orders canceled")
    dashboard.shoot("bot-stopped")

    # What it bought is still held: close it at market, after a confirmation; the exit joins the chart.
    page.get_by_test_id("bot-close-position").click()
    confirm = page.get_by_test_id("confirm-dialog")
    expect(confirm).to_contain_text("BTC/USDT")
    confirm.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("bot-notice")).to_have_text("Position closed: 1 market orders.")
    expect(page.locator('[data-testid="bot-fill-row"][data-kind="exit"]')).to_have_count(1)
    expect(chart).to_have_attribute(
        "data-marker-kinds", re.compile(r"entry.*exit"), timeout=RESULT_TIMEOUT_MS
    )
    expect(page.get_by_test_id("bot-close-position")).to_have_count(0, timeout=RESULT_TIMEOUT_MS)
    dashboard.shoot("bot-position-closed")
    with api_client(dashboard.server) as client:
        shown = client.get(f"/bots/{BOT}").json()
    assert shown["status"] == "stopped" and shown["groups"] >= 1

    # The bot's page, the list and the form in every language, with no English sentence left.
    for locale in LANGUAGES:
        page.get_by_test_id("language-select").select_option(locale)
        expect(page.locator("html")).to_have_attribute("lang", locale)
        dashboard.shoot(f"bot-{locale}")
        assert english_left(dashboard, locale) == {}, locale
        page.get_by_test_id("bot-back").click()
        expect(page.get_by_test_id("bot-row")).to_have_count(1)
        assert english_left(dashboard, locale) == {}, locale
        page.get_by_test_id("bots-create").click()
        expect(page.get_by_test_id("bot-form")).to_be_visible()
        expect(page.get_by_test_id("bot-risk-explained")).to_have_attribute("data-risk", "balanced")
        assert english_left(dashboard, locale) == {}, locale
        dashboard.page.go_back()
        dashboard.page.go_back()
        expect(view).to_be_visible()
