"""Issue 10a in a real browser: a demo that survives a restart, and API docs that work offline.

- `tradewarden up` → add a connection through the wizard on the simulator `up` started → stop → `up`
  again: the simulator is back on its recorded port and every simulator-backed connection is Online after
  a re-test from the dashboard.
- `/api/v1/docs` renders its operations with every non-loopback request blocked in the page (Swagger UI is
  served by the package itself), with no console error (a CSP violation would be one).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Route, expect

from tests.conftest import Cli
from tests.e2e.conftest import (
    ACTION_TIMEOUT_MS,
    LOOPBACK_HOSTS,
    NAVIGATION_TIMEOUT_MS,
    RESULT_TIMEOUT_MS,
    SCREENSHOTS,
    VIEWPORTS,
    Dashboard,
    Server,
)
from tests.e2e.test_dashboard import card, close_wizard, expect_badge, log_in, run_wizard
from tests.integration.api.conftest import cli_process, free_port
from tests.integration.simtools import SimAdmin

UP_TIMEOUT_S = 90.0
LOOPBACK = {h.strip("[]") for h in LOOPBACK_HOSTS}


def _offline(route: Route) -> None:
    """The network is off: only loopback answers."""
    if urlsplit(route.request.url).hostname in LOOPBACK or route.request.url.startswith("data:"):
        route.continue_()
    else:
        route.abort("internetdisconnected")


@contextmanager
def _page(browser: Browser, server: Server, name: str) -> Iterator[Dashboard]:
    context = browser.new_context(
        viewport=VIEWPORTS["desktop"],  # type: ignore[arg-type]
        locale="en-US",
        timezone_id="UTC",
        service_workers="block",
        base_url=server.url,
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    context.route("**/*", _offline)
    page = context.new_page()
    dash = Dashboard(page=page, context=context, server=server, viewport="desktop", test_name=name)
    page.on("console", dash._on_console)
    page.on("pageerror", dash._on_page_error)
    page.on("request", dash._on_request)
    page.on("response", dash._on_response)
    page.on("requestfinished", dash._on_request_done)
    page.on("requestfailed", dash._on_request_failed)
    try:
        yield dash
        dash.settle(quiet_s=0.1)
        dash.assert_clean()
    finally:
        context.close()


def _start(args: list[str], env: dict[str, str], workdir: Path, label: str) -> Any:
    return cli_process(["up", *args], env, workdir, label)


def _up_server(up: Any, port: int, home: Path) -> Server:
    up.wait_for_output(rf"Dashboard: http://127\.0\.0\.1:{port}/", UP_TIMEOUT_S)
    token = up.wait_for_output(r"Login token \(admin, shown once\): (tw_\S+)", 5).group(1)
    base = f"http://127.0.0.1:{port}"
    up.wait_for_health(base, UP_TIMEOUT_S)
    return Server(url=base, home=home, app=cast(Any, None), token=token, token_name="dashboard (up)")


def test_up_add_stop_up_again_every_simulated_connection_is_online(
    browser: Browser, cli: Cli, tmp_path: Path
) -> None:
    env = {k: v for k, v in cli.env.items() if k != "TRADEWARDEN_PASSPHRASE"}
    sim_port = free_port()  # not the default 8765: other runs may share this machine
    sim_url = f"http://127.0.0.1:{sim_port}"

    port = free_port()
    with _start(["--port", str(port), "--sim-port", str(sim_port)], env, tmp_path, "up-1") as up:
        server = _up_server(up, port, cli.home)
        with _page(browser, server, "up-first-run") as dash:
            log_in(dash, shoot=False)
            expect_badge(card(dash, "Demo (simulator)"), "Online")
            key = SimAdmin(sim_url).key("kucoin", ["read", "spot_trade"], ["127.0.0.1"])
            result = run_wizard(dash, "kucoin", "KuCoin Sim", key, sim_url, shots=False)
            expect(result).to_have_attribute("data-status", "online")
            close_wizard(dash)
            expect_badge(card(dash, "KuCoin Sim"), "Online")
        up.stop()

    port = free_port()
    with _start(["--port", str(port)], env, tmp_path, "up-2") as up:  # no --sim-port: the recorded one
        server = _up_server(up, port, cli.home)
        assert f"Simulator on {sim_url}" in up.stdout()
        with _page(browser, server, "up-second-run") as dash:
            log_in(dash, shoot=False)
            for name in ("Demo (simulator)", "KuCoin Sim"):
                row = card(dash, name)
                expect_badge(row, "Online")
                row.get_by_test_id("connection-retest").click()
                expect_badge(row, "Online", timeout=RESULT_TIMEOUT_MS)
        up.stop()


def test_api_docs_render_their_operations_with_the_network_off(browser: Browser, server: Server) -> None:
    with _page(browser, server, "docs-offline") as dash:
        log_in(dash, shoot=False)  # the session cookie opens the docs (they need a read token)
        dash.page.goto(server.url + "/api/v1/docs", wait_until="load")
        operations = dash.page.locator(".opblock")
        expect(operations.first).to_be_visible(timeout=RESULT_TIMEOUT_MS)
        assert operations.count() >= 10
        expect(
            dash.page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/connections$")).first
        ).to_be_visible()
        expect(dash.page.locator(".opblock-summary-method", has_text="PATCH").first).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        dash.page.screenshot(path=str(SCREENSHOTS / "docs-offline.png"), full_page=False)
