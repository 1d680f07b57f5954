"""Browser end-to-end tests: Debian's Chromium, driven by Playwright, against the real server and simulator.

Each test gets a fresh TRADEWARDEN_HOME with a vault and an admin token, and the real app
(`build_state` + `create_app`, as `tradewarden serve` runs it) under uvicorn on an ephemeral loopback
port, serving the built dashboard at `/`. One simulator and one browser serve a whole module; every
test gets its own browser context (no shared cookies or storage).

What every test gets for free (see `Dashboard`):
- a failure on any browser console error or uncaught page error;
- a failure on any request that leaves loopback;
- every response body and WebSocket frame the page received, for leak scans;
- a screenshot of the page when the test fails (test-artifacts/screenshots/failures/).

Nothing here skips: without Chromium or the built dashboard the tests fail and say how to get them.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSPHRASE
from tests.integration.helpers import find_leaks
from tests.integration.simtools import SimAdmin
from tests.serving import serve_in_thread
from tradewarden.adapters.vault.secret import Secret
from tradewarden.api.app import STATIC_DIR, create_app
from tradewarden.api.server import ServeOptions, build_state, preflight
from tradewarden.config import Settings
from tradewarden.services import tokens
from tradewarden.services.app import App, open_app
from tradewarden.services.vault_access import init_vault
from tradewarden.sim import ThreadedSim

try:  # a missing package must fail the tests with a reason, not skip them
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Page,
        Playwright,
        Request,
        Response,
        WebSocket,
        expect,
        sync_playwright,
    )
    from playwright.sync_api import Error as PlaywrightError
except ImportError as missing:  # pragma: no cover - exercised only on a broken install
    PLAYWRIGHT_IMPORT_ERROR: ImportError | None = missing
else:
    PLAYWRIGHT_IMPORT_ERROR = None

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; `make chromium` installs it when missing
# This machine's network is closed: without these flags Chromium floods refused connections (Google
# services, component updates) and fails to look up Google's hosts at every start.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

# Every wait is bounded. A connection test against the simulator takes well under a second; the
# longer bound is for a loaded CI machine.
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 15_000
RESULT_TIMEOUT_MS = 30_000
BODY_WAIT_S = 5.0  # for responses still arriving when a leak scan starts or the page navigates
# The dashboard reloads lists 300 ms (connections) or 500 ms (audit) after a live event: wait that out.
SETTLE_QUIET_S = 0.6
LEAK_WIDTH = 8  # every 8-character piece of a secret is searched for (tests/integration/helpers.py)

# Screenshots (by name) of pages known to be wider than the viewport, reported to the dashboard's
# author; the check fails when one of them fits, so that the entry is removed once fixed.
KNOWN_OVERFLOW: dict[str, set[str]] = {}

ADMIN_TOKEN_NAME = "e2e-admin"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


# -- the machine: Chromium, Playwright, the built dashboard ------------------------------------------------


def _require_tools() -> None:
    """Fail (never skip) with what to do when the browser, Playwright or the dashboard build is missing."""
    if PLAYWRIGHT_IMPORT_ERROR is not None:
        pytest.fail(
            f"the Playwright package is not installed ({PLAYWRIGHT_IMPORT_ERROR}); run `make test`, which "
            "installs it from constraints.txt (pip install -c constraints.txt -e '.[dev]')",
            pytrace=False,
        )
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests drive Debian's chromium package. "
            "Run `make chromium` (`make test` runs it), or as root: "
            "`apt-get update && apt-get install -y --no-install-recommends chromium`",
            pytrace=False,
        )
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail(
            f"the dashboard is not built ({STATIC_DIR}/index.html is missing): run `make test`, which "
            "builds web/ first (or `cd web && npm ci && npm run build`)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """The Playwright driver for this module (sync API)."""
    _require_tools()
    with sync_playwright() as driver:
        expect.set_options(timeout=ACTION_TIMEOUT_MS)
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, started by Playwright (never a downloaded browser)."""
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=30_000
    )
    try:
        yield chromium
    finally:
        chromium.close()


# -- the simulator and the server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSim]:
    """The exchange simulator on an ephemeral loopback port."""
    simulator = ThreadedSim(host="127.0.0.1", port=0, seed=23).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def sim_admin(sim: ThreadedSim) -> SimAdmin:
    """The simulator's admin API (keys with chosen permissions and IP whitelists)."""
    return SimAdmin(sim.url)


@dataclass
class Server:
    """A running `tradewarden serve` equivalent: its URL, home, app context and admin token."""

    url: str
    home: Path
    app: App
    token: str
    token_name: str = ADMIN_TOKEN_NAME


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh home with a vault and an admin token, served like `tradewarden serve` on loopback."""
    _require_tools()
    home = tmp_path / "twhome"
    # The OWASP-minimum KDF keeps the suite fast; production defaults are stronger.
    settings = Settings(home=home, database_url=None, kdf_time_cost=2, kdf_memory_kib=19 * 1024)
    app = open_app(settings)
    try:
        passphrase = Secret(PASSPHRASE)
        assert init_vault(app, passphrase)
        _view, token = tokens.create_token(app, ADMIN_TOKEN_NAME, "admin")
        options = ServeOptions(host="127.0.0.1", port=0, monitor_interval_s=3600.0)
        assert preflight(app, passphrase, options) == []
        state = build_state(app, passphrase, options)
        with serve_in_thread(create_app(state), name="tradewarden-e2e-server") as url:
            yield Server(url=url, home=home, app=app, token=token.reveal())
    finally:
        app.close()


# -- the browser page and what it saw ----------------------------------------------------------------------


@dataclass
class Received:
    """One response (or WebSocket frame) the page received."""

    what: str  # "GET http://127.0.0.1:.../api/v1/connections 200" or "ws frame ..."
    body: bytes


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@dataclass(repr=False)
class Dashboard:
    """A browser page on the dashboard, with what it logged and received."""

    page: Page
    context: BrowserContext
    server: Server
    viewport: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    _pending: dict[int, Response] = field(default_factory=dict, repr=False)
    _inflight: set[int] = field(default_factory=set, repr=False)
    _last_request: float = 0.0
    _unreadable: list[str] = field(default_factory=list, repr=False)
    _received: list[Received] = field(default_factory=list, repr=False)
    _frames: list[Received] = field(default_factory=list, repr=False)
    _shots: int = 0
    test_name: str = "test"

    def __repr__(self) -> str:
        return f"<Dashboard {self.viewport} {self.page.url}>"

    # -- listeners (registered by the fixture) --

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"console.error: {message.text} @ {location.get('url', '')}")

    def _on_page_error(self, error: Any) -> None:
        self.console_errors.append(f"uncaught page error: {error}")

    def _on_request(self, request: Request) -> None:
        self._inflight.add(id(request))
        self._last_request = time.monotonic()
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in {h.strip("[]") for h in LOOPBACK_HOSTS}:
            self.foreign_requests.append(request.url)

    def _on_response(self, response: Response) -> None:
        self._pending[id(response.request)] = response

    def _on_request_done(self, request: Request) -> None:
        """Read the body as soon as it has arrived (a later navigation would make it unreadable)."""
        self._inflight.discard(id(request))
        response = self._pending.pop(id(request), None)
        if response is None:
            return
        what = f"{request.method} {response.url} {response.status}"
        if response.status in (101, 204, 304) or 300 <= response.status < 400:
            self._received.append(Received(what, b""))  # no body by definition
            return
        try:
            self._received.append(Received(what, response.body()))
        except PlaywrightError as error:
            self._unreadable.append(f"{what}: {error}")

    def _on_request_failed(self, request: Request) -> None:
        self._inflight.discard(id(request))
        self._pending.pop(id(request), None)  # no response arrived, so no body to scan

    def _on_websocket(self, socket: WebSocket) -> None:
        def keep(payload: str | bytes) -> None:
            body = payload.encode() if isinstance(payload, str) else payload
            self._frames.append(Received(f"ws frame from {socket.url}", body))

        socket.on("framereceived", keep)

    # -- navigation and screenshots --

    def goto(self, route: str = "") -> None:
        """Open the dashboard (optionally at `#/route`), once what the page is loading has arrived."""
        self.settle()
        self.page.goto(self.server.url + "/" + (f"#/{route}" if route else ""), wait_until="load")

    def settle(self, quiet_s: float = SETTLE_QUIET_S) -> None:
        """Wait until no request is in flight and none started for `quiet_s` (bounded), so that every
        body has been read before a navigation would make it unreadable."""
        deadline = time.monotonic() + BODY_WAIT_S
        while self._inflight or time.monotonic() - self._last_request < quiet_s:
            assert time.monotonic() < deadline, f"the page kept loading for {BODY_WAIT_S}s"
            self.page.wait_for_timeout(25)  # lets the driver deliver the network events

    def shoot(self, name: str) -> Path:
        """Save a screenshot as test-artifacts/screenshots/<viewport>/<test>-NN-<name>.png."""
        self._shots += 1
        folder = _viewport_folder(self)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_slug(self.test_name)}-{self._shots:02d}-{_slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled", timeout=ACTION_TIMEOUT_MS)
        self.assert_fits_width(name)
        return path

    def assert_fits_width(self, name: str) -> None:
        """Nothing sticks out sideways: the page is usable at this width without scrolling it."""
        overflow: dict[str, Any] = self.page.evaluate(
            r"""() => {
                const width = document.documentElement.clientWidth;
                const describe = (e) => e.tagName.toLowerCase()
                    + (e.dataset.testid ? `[data-testid=${e.dataset.testid}]` : "")
                    + (e.className ? `.${String(e.className).trim().split(/\s+/).join(".")}` : "");
                const wide = Array.from(document.querySelectorAll("body *"))
                    .filter((e) => e.getBoundingClientRect().right > width + 1)
                    .filter((e) => (e.parentElement?.getBoundingClientRect().right ?? 0) <= width + 1)
                    .slice(0, 3)
                    .map((e) => (e.parentElement ? describe(e.parentElement) + " > " : "") + describe(e));
                return { by: document.documentElement.scrollWidth - width, wide };
            }"""
        )
        known = name in KNOWN_OVERFLOW.get(self.viewport, set())
        if known:
            assert overflow["by"] > 0, (
                f"{name} now fits at {self.viewport} width: remove it from KNOWN_OVERFLOW"
            )
        else:
            assert overflow["by"] <= 0, (
                f"{name} is {overflow['by']}px wider than the {self.viewport} viewport; "
                f"outermost elements sticking out: {overflow['wide']}"
            )

    # -- what the page holds and received --

    def received(self) -> list[Received]:
        """Every response body and WebSocket frame the page received so far."""
        deadline = time.monotonic() + BODY_WAIT_S
        while self._pending and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)  # lets the driver deliver "requestfinished" events
        still = [f"{r.request.method} {r.url}" for r in self._pending.values()]
        assert not still, f"responses still arriving after {BODY_WAIT_S}s, so not scanned: {still}"
        assert not self._unreadable, "response bodies that could not be read: " + "; ".join(self._unreadable)
        return [*self._received, *self._frames]

    def storage(self) -> dict[str, str]:
        """localStorage and sessionStorage of the page, as key → value (prefixed with the area)."""
        data: dict[str, str] = self.page.evaluate(
            """() => {
                const out = {};
                const areas = [["local", window.localStorage], ["session", window.sessionStorage]];
                for (const [area, store] of areas) {
                    for (let i = 0; i < store.length; i++) {
                        const key = store.key(i);
                        out[area + ":" + key] = store.getItem(key);
                    }
                }
                return out;
            }"""
        )
        return data

    def input_values(self) -> list[str]:
        """The current value of every input, textarea and select in the document."""
        values: list[str] = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('input, textarea, select')).map((e) => e.value)"
        )
        return values

    def places_holding(self, *secrets: str) -> dict[str, list[str]]:
        """Where any 8-character piece of `secrets` is now: the DOM, an input's value, the storage,
        a cookie, the URL, or the body of any response or WebSocket frame the page received."""
        needles = [s for s in secrets if s]
        assert needles, "nothing to look for"
        places: dict[str, list[bytes | str]] = {
            "the DOM (page.content())": [self.page.content()],
            "an input's value": list(self.input_values()),
            "local/session storage": [f"{k}={v}" for k, v in self.storage().items()],
            "a cookie": [f"{c['name']}={c['value']}" for c in self.context.cookies()],
            "the URL": [self.page.url],
        }
        received = self.received()
        assert any("/api/v1/" in r.what for r in received), "no API response captured: a scan proves nothing"
        for item in received:
            places[f"the body of {item.what}"] = [item.body]
        found = {}
        for place, haystacks in places.items():
            leaks = find_leaks(haystacks, needles, LEAK_WIDTH)
            if leaks:
                found[place] = leaks
        return found

    def assert_no_leak(self, *secrets: str) -> None:
        """None of `secrets`, by any 8-character piece, is anywhere the page holds or received."""
        found = self.places_holding(*secrets)
        assert not found, "secret found in:\n" + "\n".join(f"{p}: pieces {v[:3]}" for p, v in found.items())

    @contextlib.contextmanager
    def expect_console_error(self, pattern: str) -> Iterator[None]:
        """The block must log exactly one console error matching `pattern` (e.g. a deliberate 401),
        which is then not held against the test; any other error still fails it."""
        before = len(self.console_errors)
        yield
        deadline = time.monotonic() + ACTION_TIMEOUT_MS / 1000
        while not any(re.search(pattern, e) for e in self.console_errors[before:]):
            assert time.monotonic() < deadline, f"no console error matching {pattern!r} was logged"
            self.page.wait_for_timeout(50)
        new = self.console_errors[before:]
        matching = [e for e in new if re.search(pattern, e)]
        assert len(matching) == 1, f"expected one console error matching {pattern!r}, got {new}"
        self.console_errors.remove(matching[0])

    def assert_clean(self) -> None:
        """No console error, no uncaught error, no request beyond loopback so far."""
        assert not self.console_errors, "browser console errors:\n" + "\n".join(self.console_errors)
        assert not self.foreign_requests, "requests beyond loopback:\n" + "\n".join(self.foreign_requests)


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    """Each browser test runs at laptop (1280×800) and phone (390×844) size."""
    return str(request.param)


@pytest.fixture
def dashboard(
    browser: Browser, server: Server, viewport: str, request: pytest.FixtureRequest
) -> Iterator[Dashboard]:
    """A fresh browser context (English, UTC) on the dashboard of a fresh server."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        locale="en-US",
        timezone_id="UTC",
        service_workers="block",
        base_url=server.url,
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    dash = Dashboard(page=page, context=context, server=server, viewport=viewport)
    dash.test_name = request.node.originalname or request.node.name
    _forget_old_screenshots(dash, request.node.nodeid)
    page.on("console", dash._on_console)
    page.on("pageerror", dash._on_page_error)
    page.on("request", dash._on_request)
    page.on("response", dash._on_response)
    page.on("requestfinished", dash._on_request_done)
    page.on("requestfailed", dash._on_request_failed)
    page.on("websocket", dash._on_websocket)
    try:
        yield dash
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            _failure_screenshot(dash, request.node.nodeid)
        elif report is not None and report.passed:
            # A test that passed must also have left the console clean until its very end.
            dash.settle(quiet_s=0.1)
            dash.assert_clean()
    finally:
        context.close()


def _viewport_folder(dash: Dashboard) -> Path:
    size = VIEWPORTS[dash.viewport]
    return SCREENSHOTS / f"{dash.viewport}-{size['width']}x{size['height']}"


def _forget_old_screenshots(dash: Dashboard, nodeid: str) -> None:
    """Drop this test's screenshots from earlier runs, so the folder shows only this run's."""
    for old in _viewport_folder(dash).glob(f"{_slug(dash.test_name)}-[0-9][0-9]-*.png"):
        old.unlink()
    (SCREENSHOTS / "failures" / f"{_slug(nodeid)}.png").unlink(missing_ok=True)


def _failure_screenshot(dash: Dashboard, nodeid: str) -> None:
    folder = SCREENSHOTS / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PlaywrightError):
        dash.page.screenshot(path=str(folder / f"{_slug(nodeid)}.png"), full_page=True, timeout=5_000)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item, so fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
