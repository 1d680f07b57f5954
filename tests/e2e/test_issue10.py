"""Issue 10 in a real browser: every page in every language (screenshots at 1280×800 and 390×844, nothing
sticking out sideways, no English catalogue sentence on an Italian, Turkish or French page), a failing key
kept only when asked, a passphrase corrected in place, and the dashboard's English copy of the server's
sentences held equal to the server's own templates.

One browser, one server per viewport; each page is opened by its route with the language set in storage,
so the suite logs in once per viewport however many screenshots it takes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import RESULT_TIMEOUT_MS, Dashboard
from tests.e2e.test_dashboard import (
    HEALTHY,
    SERVER_IP,
    WITH_WITHDRAW,
    api_client,
    api_connection,
    card,
    log_in,
    open_wizard,
    run_wizard,
)
from tests.integration.simtools import SimAdmin
from tradewarden.adapters.exchanges import remedies
from tradewarden.adapters.exchanges.registry import REGISTRY
from tradewarden.services import audit_log
from tradewarden.services.connections import tester
from tradewarden.sim import ThreadedSim

I18N = Path(__file__).resolve().parents[2] / "web" / "src" / "i18n"
LANGUAGES = ("en", "it", "tr", "fr")
ENTRY = re.compile(r'^\s*("(?:[^"\\]|\\.)+"):\s*("(?:[^"\\]|\\.)*"),?\s*$', re.M)


BACKTESTS = I18N.parent / "backtests" / "messages.ts"  # the Backtests page's keys, spread into each catalogue


def _entries(text: str) -> dict[str, str]:
    return {json.loads(k): json.loads(v) for k, v in ENTRY.findall(text)}


def catalogue(locale: str) -> dict[str, str]:
    """A catalogue's entries (one `"key": "text",` a line, as the files are written), with the Backtests
    page's block for the same language."""
    entries = _entries((I18N / f"{locale}.ts").read_text(encoding="utf-8"))
    if BACKTESTS.exists():
        text = BACKTESTS.read_text(encoding="utf-8")
        blocks = re.split(r"^export const backtests(\w\w)\b", text, flags=re.M)
        for name, block in zip(blocks[1::2], blocks[2::2], strict=True):
            if name.lower() == locale:
                entries.update(_entries(block))
    return entries


def english_sentences(locale: str) -> dict[str, str]:
    """key → the longest literal piece of each English sentence that `locale` translates differently."""
    en, other = catalogue("en"), catalogue(locale)
    pieces: dict[str, str] = {}
    for key, text in en.items():
        if other.get(key) == text:
            continue
        piece = max(re.split(r"\{\w+\}", text), key=len).strip(" .,:;()")
        if len(piece) >= 20 and piece.count(" ") >= 3:
            pieces[key] = piece
    return pieces


# -- the catalogue's copy of the server's English -----------------------------------------------------------


def test_english_catalogue_has_the_servers_sentences() -> None:
    """Every code the server sends has the same English text in en.ts (so every language can translate it)."""
    en = catalogue("en")
    server = {
        **remedies.TEMPLATES,
        **tester.DETAIL_TEMPLATES,
        **audit_log.TEMPLATES,
    }
    assert len(server) > 80
    differing = {code: text for code, text in server.items() if en.get(f"srv.{code}") != text}
    assert differing == {}, "update web/src/i18n/*.ts for these server sentences"
    guides = {}
    for exchange_id, info in REGISTRY.items():
        guides[f"guide.{exchange_id}.where"] = info.guide.where
        guides[f"guide.{exchange_id}.ip"] = info.guide.ip_whitelist
        for n, note in enumerate(info.guide.notes):
            guides[f"guide.{exchange_id}.note{n}"] = note
    assert {k: v for k, v in guides.items() if en.get(k) != v} == {}
    for locale in ("it", "tr", "fr"):
        assert set(catalogue(locale)) == set(en), f"{locale} lacks or adds keys"


# -- pages ---------------------------------------------------------------------------------------------


def _arrange(dash: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin) -> None:
    """An Online MEXC key, and a KuCoin key that may withdraw, kept though it failed its test."""
    api_connection(dash.server, sim, "MEXC Spot Main", "mexc", sim_admin.key("mexc", HEALTHY, SERVER_IP))
    key = sim_admin.key("kucoin", WITH_WITHDRAW, SERVER_IP)
    with api_client(dash.server) as client:
        kept = client.post(
            "/connections",
            json={
                "name": "KuCoin Withdraw",
                "exchange": "kucoin",
                "market": "spot",
                "endpoint": sim.url,
                "credentials": {f: key[f] for f in ("apiKey", "secret", "password")},
                "test": True,
                "keep_untested": True,
            },
        )
        assert kept.status_code == 201, kept.text
        assert kept.json()["test"]["status"] == "withdraw_enabled"


def _open(dash: Dashboard, locale: str, route: str) -> None:
    """Open `route` by its address, in `locale` (chosen with the language select: no reload, no re-login)."""
    dash.goto(route)
    dash.page.get_by_test_id("language-select").select_option(locale)
    expect(dash.page.locator("html")).to_have_attribute("lang", locale)
    expect(dash.page.get_by_test_id(f"nav-{route}")).to_have_attribute("aria-current", "page")
    expect(dash.page.get_by_test_id("page-title")).to_be_visible()


def _no_english(dash: Dashboard, locale: str, where: str) -> None:
    if locale == "en":
        return
    text = dash.page.locator("body").inner_text()
    found = {key: piece for key, piece in english_sentences(locale).items() if piece in text}
    assert found == {}, f"English sentences on the {locale} {where} page"


def _header_on_one_line(dash: Dashboard, locale: str) -> None:
    """At 1280 px the top bar is one row: items share a middle line, none wraps its words, none overlaps."""
    layout: dict[str, Any] = dash.page.evaluate(
        """() => {
            const items = [...document.querySelectorAll('.topbar > .brand, .nav li, .topbar-tools > *')]
                .filter((e) => e.getBoundingClientRect().width > 1);
            // Lines of visible text in e: text rects whose tops differ by more than half a line.
            const lines = (e) => {
                const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
                const rects = [];
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    if (node.parentElement.closest('select, .visually-hidden, .who-full')) continue;
                    const range = document.createRange();
                    range.selectNodeContents(node);
                    rects.push(...[...range.getClientRects()].filter((r) => r.width > 1));
                }
                const tops = rects.map((r) => r.top).sort((a, b) => a - b);
                const half = Math.min(...rects.map((r) => r.height)) / 2;
                return tops.filter((t, i) => i === 0 || t - tops[i - 1] > half).length;
            };
            const boxes = items.map((e) => e.getBoundingClientRect()).sort((a, b) => a.left - b.left);
            return {
                middles: boxes.map((r) => r.top + r.height / 2),
                wrapped: items.filter((e) => lines(e) > 1).map((e) => e.textContent),
                overlaps: boxes.slice(1).filter((r, i) => r.left < boxes[i].right - 1).length,
            };
        }"""
    )
    middles = layout["middles"]
    assert middles and max(middles) - min(middles) <= 6, f"the {locale} header wraps at 1280 px: {layout}"
    assert layout["wrapped"] == [] and layout["overlaps"] == 0, f"the {locale} header is squeezed: {layout}"


def _kind_on_one_line(dash: Dashboard) -> None:
    lines: list[int] = dash.page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=audit-kind] > span')]
                 .map((e) => e.getClientRects().length)"""
    )
    assert lines and max(lines) == 1, f"an audit kind wraps: {lines}"


def _rows_are_cards(dash: Dashboard, testid: str) -> None:
    """Below 600 px a table row is a card: a block of its own, not a table row squeezed sideways."""
    displays: list[str] = dash.page.evaluate(
        """(id) => [...document.querySelectorAll(`[data-testid=${id}]`)]
                   .map((e) => getComputedStyle(e).display)""",
        testid,
    )
    assert displays and set(displays) == {"block"}, f"{testid} rows are not cards: {displays}"


def _values_not_clipped(dash: Dashboard) -> None:
    clipped: list[str] = dash.page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const values = '[data-testid=portfolio-balance-value], [data-testid=portfolio-holding] td, '
                + '[data-testid=portfolio-connection-total]';
            const clipped = (e) => e.getBoundingClientRect().right > width + 1
                || e.scrollWidth > e.clientWidth + 1;
            return [...document.querySelectorAll(values)].filter(clipped)
              .map((e) => e.textContent);
        }"""
    )
    assert clipped == [], f"clipped portfolio values: {clipped}"


def test_every_page_in_every_language(dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin) -> None:
    """Login, connections, the wizard's guide, portfolio, audit and backtests in en/it/tr/fr: a screenshot
    each, nothing wider than the viewport, no English catalogue sentence outside English, the header on one
    line on a laptop, audit kinds never broken, portfolio values never clipped."""
    page = dashboard.page
    _arrange(dashboard, sim, sim_admin)
    for locale in LANGUAGES:
        dashboard.goto()
        page.get_by_test_id("language-select").select_option(locale)
        expect(page.get_by_test_id("login-token")).to_be_visible()
        dashboard.shoot(f"login-{locale}")
        _no_english(dashboard, locale, "login")
    log_in(dashboard, shoot=False)
    desktop = dashboard.viewport == "desktop"

    for locale in LANGUAGES:
        _open(dashboard, locale, "connections")
        failing = card(dashboard, "KuCoin Withdraw")
        expect(failing.get_by_test_id("connection-remedy")).to_be_visible()
        dashboard.shoot(f"connections-{locale}")
        _no_english(dashboard, locale, "connections")
        if desktop:
            _header_on_one_line(dashboard, locale)

        dialog = open_wizard(dashboard)
        dialog.get_by_test_id("wizard-exchange-option-binance").click()
        dialog.get_by_test_id("wizard-next").click()
        expect(dialog.get_by_test_id("wizard-guide")).to_be_visible()
        expect(dialog.get_by_test_id("wizard-address-box")).to_be_visible()
        dashboard.shoot(f"wizard-guide-{locale}")
        _no_english(dashboard, locale, "wizard guide")
        dialog.get_by_test_id("wizard-cancel").click()
        expect(dialog).to_have_count(0)

        _open(dashboard, locale, "portfolio")
        expect(page.get_by_test_id("portfolio-total")).to_be_visible()
        expect(
            page.locator('[data-testid="portfolio-excluded-item"][data-connection-name="KuCoin Withdraw"]')
        ).to_be_visible()
        expect(page.get_by_test_id("portfolio-holdings")).to_be_visible()
        expect(page.get_by_test_id("portfolio-allocation").locator("rect").first).to_be_visible()
        dashboard.shoot(f"portfolio-{locale}")
        _no_english(dashboard, locale, "portfolio")
        _values_not_clipped(dashboard)
        if not desktop:
            _rows_are_cards(dashboard, "portfolio-holding")
            _rows_are_cards(dashboard, "portfolio-balance-row")

        _open(dashboard, locale, "audit")
        expect(page.get_by_test_id("audit-row").first).to_be_visible()
        dashboard.settle()
        dashboard.shoot(f"audit-{locale}")
        _no_english(dashboard, locale, "audit")
        _kind_on_one_line(dashboard)
        expect(page.get_by_test_id("audit-table")).not_to_contain_text('{"')
        if not desktop:
            _rows_are_cards(dashboard, "audit-row")

        _open(dashboard, locale, "backtests")
        dashboard.shoot(f"backtests-{locale}")
        _no_english(dashboard, locale, "backtests")
    dashboard.assert_clean()


# -- keep a failing key only when asked; correct a passphrase in place ---------------------------------


def test_failing_key_is_not_kept_unless_asked(
    dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin
) -> None:
    """Without the box, a withdraw-enabled key is tested, refused with the exact cause, and not saved."""
    page = dashboard.page
    key = sim_admin.key("kucoin", WITH_WITHDRAW, SERVER_IP)
    log_in(dashboard, shoot=False)
    # The refusal is the API's 422 (`test_failed`), which the browser logs as a failed resource.
    with dashboard.expect_console_error(r"status of 422 .*/api/v1/connections"):
        result = run_wizard(dashboard, "kucoin", "KuCoin Not Kept", key, sim.url, shots=False)
    expect(result).to_have_attribute("data-status", "withdraw_enabled")
    expect(page.get_by_test_id("wizard-result-summary")).to_have_attribute("data-kept", "false")
    expect(result.get_by_test_id("test-message")).to_contain_text("can withdraw funds")
    expect(result.get_by_test_id("test-failed-check")).to_have_attribute("data-check", "key_permissions")
    expect(page.get_by_test_id("wizard-retest")).to_have_count(0)
    dashboard.shoot("not-kept")
    page.get_by_test_id("wizard-done").click()
    expect(card(dashboard, "KuCoin Not Kept")).to_have_count(0)
    dashboard.assert_no_leak(key["secret"], key["password"])
    dashboard.assert_clean()


def _kucoin_with_wrong_passphrase(dash: Dashboard, sim: ThreadedSim, key: dict[str, Any]) -> None:
    with api_client(dash.server) as client:
        kept = client.post(
            "/connections",
            json={
                "name": "KuCoin Typo",
                "exchange": "kucoin",
                "market": "spot",
                "endpoint": sim.url,
                "credentials": {"apiKey": key["apiKey"], "secret": key["secret"], "password": "typo"},
                "test": True,
                "keep_untested": True,
            },
        )
        assert kept.status_code == 201, kept.text
        assert kept.json()["status"] == "invalid_key", kept.json()


def test_passphrase_corrected_in_place(dashboard: Dashboard, sim: ThreadedSim, sim_admin: SimAdmin) -> None:
    """A mistyped KuCoin passphrase is headlined as the passphrase, and the Edit dialog corrects just that
    field in place: tested first, then Online, same connection."""
    page = dashboard.page
    key = sim_admin.key("kucoin", HEALTHY, SERVER_IP)
    _kucoin_with_wrong_passphrase(dashboard, sim, key)
    log_in(dashboard, shoot=False)
    row = card(dashboard, "KuCoin Typo")
    expect(row).to_have_attribute("data-status", "invalid_key")
    expect(row.get_by_test_id("connection-message")).to_contain_text("passphrase")
    connection_id = row.get_attribute("data-connection-id")

    row.get_by_test_id("connection-edit").click()
    dialog = page.get_by_test_id("edit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("edit-name")).to_have_value("KuCoin Typo")
    dialog.get_by_test_id("edit-credential-password").fill(key["password"])
    dashboard.shoot("edit-passphrase")
    dialog.get_by_test_id("edit-submit").click()
    expect(dialog.get_by_test_id("edit-result")).to_have_attribute(
        "data-rotated", "true", timeout=RESULT_TIMEOUT_MS
    )
    expect(dialog.get_by_test_id("test-result")).to_have_attribute("data-status", "online")
    dialog.get_by_test_id("edit-close").click()
    expect(row).to_have_attribute("data-status", "online", timeout=RESULT_TIMEOUT_MS)
    expect(row).to_have_attribute("data-connection-id", connection_id or "")
    dashboard.assert_no_leak(key["secret"], key["password"])
    dashboard.assert_clean()
