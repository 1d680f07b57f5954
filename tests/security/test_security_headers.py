"""Security headers on every response: CSP without inline scripts (the docs page pinned by hash),
frame-ancestors 'none' + X-Frame-Options DENY, nosniff, no-referrer. Real uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.conftest import ApiServer, running_server
from tradewarden.api.app import STATIC_DIR

FIXED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """A fresh real server serving the built dashboard."""
    with running_server(tmp_path / "home") as running:
        yield running


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as directive -> sources."""
    header = response.headers.get("content-security-policy", "")
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def _assert_headers(response: httpx.Response, what: str) -> dict[str, list[str]]:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, f"{what}: {name}={response.headers.get(name)!r}"
    policy = _policy(response)
    assert policy.get("frame-ancestors") == ["'none'"], f"{what}: {policy}"
    script = policy.get("script-src", policy.get("default-src"))
    assert script, f"{what}: no script policy"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, f"{what}: {script}"
    return policy


@pytest.mark.attack("clickjacking/missing security headers")
def test_every_kind_of_response_carries_the_headers(server: ApiServer) -> None:
    """Dashboard, its assets, API JSON, errors (401/404/413/422) and health all carry the headers."""
    anonymous, admin = server.client(None), server.client("admin")
    page = anonymous.get("/")
    assert page.status_code == 200 and '<div id="root">' in page.text
    policy = _assert_headers(page, "dashboard")
    assert policy["script-src"] == ["'self'"] and policy["default-src"] == ["'self'"]
    asset = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
    assert asset, page.text
    _assert_headers(anonymous.get(asset.group(1)), "dashboard script")
    _assert_headers(anonymous.get("/api/v1/health"), "health")
    _assert_headers(admin.get("/api/v1/connections"), "API JSON")
    _assert_headers(anonymous.get("/api/v1/connections"), "401")
    _assert_headers(admin.get("/api/v1/no-such-route"), "404")
    _assert_headers(anonymous.post("/api/v1/auth/login", json={}), "422")
    big = anonymous.post("/api/v1/auth/login", content=b"x" * (2 * 1024 * 1024))
    assert big.status_code == 413
    _assert_headers(big, "413")


@pytest.mark.attack("clickjacking/missing security headers")
def test_the_built_dashboard_has_no_inline_script() -> None:
    """The CSP forbids inline scripts, so the built page must not need one (Vite emits files only)."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts, "no script in the built dashboard"
    for attributes, body in scripts:
        assert "src=" in attributes and not body.strip(), f"inline script in index.html: {body[:80]!r}"
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, re.IGNORECASE), "inline event handler attribute"


@pytest.mark.attack("clickjacking/missing security headers")
def test_the_docs_page_runs_no_inline_script_and_loads_scripts_from_itself_only(server: ApiServer) -> None:
    """Swagger UI is served by this server (issue 10: no CDN) and started by a script file, not inline
    code: the page's policy allows scripts from 'self' only, and the page can still not be framed."""
    docs = server.client("read").get("/api/v1/docs")
    assert docs.status_code == 200
    policy = _assert_headers(docs, "docs")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", docs.text, re.DOTALL)
    assert scripts and all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert policy["script-src"] == ["'self'"], policy
    assert policy["connect-src"] == ["'self'"]
