"""The API docs page: Swagger UI served from the package itself (no CDN), so it works with no network.

The Swagger UI files come from the swagger-ui-dist npm package (Apache-2.0; LICENSE and NOTICE are served
beside them), copied into the built dashboard at /docs-assets by web/vite.config.ts. The page has no inline
script: its start-up code is /api/v1/docs/init.js, so the page's policy allows scripts from 'self' only.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

ASSETS_URL = "/docs-assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE")
# Swagger UI sets inline styles on the elements it renders: styles (only) may be inline on this page.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

INIT_JS = """// Starts Swagger UI on the OpenAPI document named by the page (no inline script: see docs.py).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    withCredentials: true,
    validatorUrl: null,
  });
})();
"""


def assets_present(static_dir: Path) -> bool:
    """True when the build put the Swagger UI files in the dashboard's static directory."""
    return all((static_dir / ASSETS_URL.strip("/") / name).is_file() for name in ASSET_FILES)


def page(title: str, openapi_url: str, init_url: str, static_dir: Path) -> str:
    """The docs page: Swagger UI from /docs-assets, or how to build it when the files are missing."""
    if not assets_present(static_dir):
        return (
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title></head>"
            "<body><h1>API docs</h1><p>The Swagger UI files are not built. Run <code>make web</code> (it "
            f"copies them from the swagger-ui-dist package), or read the OpenAPI document at "
            f'<a href="{escape(openapi_url)}">{escape(openapi_url)}</a>.</p></body></html>'
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title>"
        f'<link rel=stylesheet href="{ASSETS_URL}/swagger-ui.css"></head><body>'
        f'<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>'
        f'<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>'
        f'<script src="{escape(init_url)}"></script>'
        "<!-- Swagger UI: Apache License 2.0, see /docs-assets/LICENSE and /docs-assets/NOTICE -->"
        "</body></html>"
    )
