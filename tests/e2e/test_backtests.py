"""Issue 16: backtest reports and the Backtests page in Debian's Chromium.

- The HTML report (and a sweep's heatmap report) opens from a file with the network off and draws its
  charts; nothing but the file itself is requested. Screenshots in test-artifacts/screenshots/reports/.
- The Backtests page runs a small sweep on an uploaded candle file: progress, the ranked table and the
  heatmap (at laptop and phone size, screenshots per step, no console error, nothing beyond loopback).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import ACTION_TIMEOUT_MS, RESULT_TIMEOUT_MS, SCREENSHOTS, VIEWPORTS, Dashboard
from tests.e2e.test_dashboard import go, log_in
from tradewarden.services.backtest import data, runner
from tradewarden.services.backtest.candles import load_candles
from tradewarden.services.backtest.report import sweep_report, write_report
from tradewarden.services.backtest.results import ADDON, TAKE_PROFIT

DATA = Path(__file__).resolve().parents[1] / "data" / "candles" / "kraken-xbtusdt-1m-2025-11.csv"
SETTINGS = {
    "base_order": "100",
    "addon_order": "150",
    "addon_count": "3",
    "addon_deviation_pct": "0.3",
    "addon_volume_scale": "1.5",
    "take_profit_pct": "0.3",
    "recovery_drawdown_pct": "0.5",
}
REPORTS = SCREENSHOTS / "reports"


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page with the network off: every request other than a file: URL is aborted and recorded."""
    context = browser.new_context(viewport=VIEWPORTS["desktop"], offline=True, service_workers="block")  # type: ignore[arg-type]
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    asked: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            asked.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        yield page, asked
        assert not errors, f"browser errors: {errors}"
    finally:
        context.close()


def _drawn(page: Page, css: str) -> None:
    """The chart is laid out with a real size and visible."""
    chart = page.locator(f"svg.{css}")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100, f"{css}: {box}"


def test_report_opens_offline_and_draws_its_charts(
    offline_page: tuple[Page, list[str]], tmp_path: Path
) -> None:
    page, asked = offline_page
    candles = load_candles(DATA, timeframe="1m")
    request = runner.BacktestRequest(strategy="dca", values=SETTINGS, recovery=True)
    result = runner.run(request, candles)
    assert (result.fills.kind == ADDON).any() and (result.fills.kind == TAKE_PROFIT).any()
    assert result.recovery_time_pct > 0, "the example should show Recovery Mode shading"
    path = tmp_path / "report.html"
    write_report(path, result, candles, SETTINGS, context=runner.context_for(request))

    page.goto(path.as_uri(), wait_until="load")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Backtest: dca")
    for css in ("chart-price", "chart-equity", "chart-drawdown", "chart-margin"):
        _drawn(page, css)
    markers = page.locator("svg.chart-price g.markers > *")
    assert markers.count() == len(result.fills)
    expect(page.locator("svg.chart-margin rect.recovery").first).to_be_visible()
    expect(page.locator("table.results")).to_contain_text(f"{result.trades}")
    REPORTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REPORTS / "backtest-report.png"), full_page=True)
    assert asked == [], f"the report asked the network for {asked}"

    # A sweep's report: the heatmap, also with nothing loaded from anywhere.
    rows = []
    for tp in ("0.2", "0.3", "0.5"):
        for dev in ("0.2", "0.4"):
            values = {**SETTINGS, "take_profit_pct": tp, "addon_deviation_pct": dev}
            run = runner.run(runner.BacktestRequest(strategy="dca", values=values, recovery=True), candles)
            rows.append({"settings": {"take_profit_pct": tp, "addon_deviation_pct": dev}, **run.to_json()})
    sweep_path = tmp_path / "sweep.html"
    sweep_report(
        {"results": rows, "failed": []}, "take_profit_pct", "addon_deviation_pct", sweep_path, "profit_pct"
    )
    page.goto(sweep_path.as_uri(), wait_until="load")
    _drawn(page, "chart-heatmap")
    expect(page.locator("svg.chart-heatmap g.cell")).to_have_count(6)
    page.screenshot(path=str(REPORTS / "sweep-report.png"), full_page=True)
    assert asked == [], f"the sweep report asked the network for {asked}"


def test_backtests_page_runs_a_small_sweep_and_shows_table_and_heatmap(dashboard: Dashboard) -> None:
    page = dashboard.page
    log_in(dashboard, shoot=False)
    go(dashboard, "backtests")
    expect(page.get_by_test_id("page-title")).to_have_text("Backtests")
    # the bots' presets, served by the API
    risk = page.get_by_test_id("backtest-risk")
    expect(risk.locator("option")).to_have_count(4)
    expect(page.get_by_test_id("backtest-settings")).to_have_value(re.compile(r"addon_volume_scale=1\.5"))
    dashboard.shoot("backtests-form")

    page.get_by_test_id("backtest-mode").select_option("sweep")
    page.get_by_test_id("backtest-settings").fill(
        "\n".join(f"{k}={v}" for k, v in SETTINGS.items() if not k.startswith("recovery"))
    )
    page.get_by_test_id("backtest-file").set_input_files(str(DATA))
    expect(page.get_by_test_id("backtest-file").locator("xpath=..")).to_contain_text(
        "kraken-xbtusdt-1m-2025-11.csv"
    )
    page.get_by_test_id("backtest-timeframe").fill("1m")
    page.get_by_test_id("sweep-grid").fill("take_profit_pct=0.2,0.3,0.5\naddon_deviation_pct=0.2,0.4")
    page.get_by_test_id("sweep-objective").select_option("return")
    page.get_by_test_id("backtest-submit").click()

    job = page.get_by_test_id("backtest-job")
    expect(job).to_have_attribute("data-status", "done", timeout=RESULT_TIMEOUT_MS)
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("6 settings ranked")
    rows = page.get_by_test_id("sweep-row")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("take_profit_pct=")
    # ranked best first: the return column does not increase down the table
    returns = [float(t.replace(",", "")) for t in rows.locator("td:nth-child(3)").all_inner_texts()]
    assert returns == sorted(returns, reverse=True), returns
    heatmap = page.get_by_test_id("sweep-heatmap")
    expect(heatmap).to_be_visible()
    expect(heatmap.get_by_test_id("heatmap-cell")).to_have_count(6)
    best = max(
        float(v)
        for v in heatmap.get_by_test_id("heatmap-cell").evaluate_all("cs => cs.map(c => c.dataset.value)")
    )
    assert best == pytest.approx(returns[0], abs=1e-3)
    dashboard.shoot("backtests-sweep-results")

    # swap the heatmap's axes: still one cell per pair
    page.get_by_test_id("heatmap-x").select_option("addon_deviation_pct")
    page.get_by_test_id("heatmap-y").select_option("take_profit_pct")
    expect(heatmap.get_by_test_id("heatmap-cell")).to_have_count(6)
    expect(heatmap).to_have_attribute(
        "aria-label", re.compile(r"over addon_deviation_pct and take_profit_pct")
    )


def test_backtests_page_runs_one_backtest_on_a_stored_series_and_opens_its_report(
    dashboard: Dashboard,
) -> None:
    page = dashboard.page
    root = data.data_root(dashboard.server.app.settings.home_dir)
    data.import_file(root, DATA, exchange="kraken", pair="BTC/USDT", timeframe="1m")
    log_in(dashboard, shoot=False)
    go(dashboard, "backtests")
    source = page.get_by_test_id("backtest-source")
    expect(source.locator("option")).to_have_count(2)
    source.select_option(index=1)
    expect(page.get_by_test_id("backtest-file")).to_have_count(0)
    page.get_by_test_id("backtest-settings").fill("\n".join(f"{k}={v}" for k, v in SETTINGS.items()))
    page.get_by_test_id("backtest-submit").click()

    expect(page.get_by_test_id("backtest-job")).to_have_attribute(
        "data-status", "done", timeout=RESULT_TIMEOUT_MS
    )
    candles = load_candles(DATA, timeframe="1m")
    expected = runner.run(runner.BacktestRequest(strategy="dca", values=SETTINGS), candles)
    expect(page.get_by_test_id("figure-trades")).to_contain_text(str(expected.trades))
    chart = page.get_by_test_id("backtest-equity-chart")
    expect(chart).to_be_visible()
    assert len((chart.locator("polyline").get_attribute("points") or "").split()) > 100
    dashboard.shoot("backtests-single-result")

    # The report opens in a new tab under its sandboxed policy and still draws its charts.
    with page.context.expect_page() as opened:
        page.get_by_test_id("backtest-report-link").click()
    report = opened.value
    report.wait_for_load_state("load")
    expect(report.locator("svg.chart-price")).to_be_visible()
    expect(report.locator("svg.chart-margin")).to_be_visible()
    assert report.locator("svg.chart-price g.markers > *").count() == len(expected.fills)
    report.close()
