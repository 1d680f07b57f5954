"""Every layering rule of DESIGN.md ("Layers and rooms"), read from the imports of the source with `ast`.

- domain imports nothing from the project but itself;
- nothing imports cli or api, except the `serve`/`up` commands starting the server (cli imports api there);
- the api reaches the store and every adapter through services, never directly (the Secret value type aside);
- sim imports nothing from the rest of tradewarden (also held, in more detail, by test_sim_isolation.py).

Imports inside functions count too (ast.walk sees every node), and `from . import x` is resolved against the
module's package. Known violations of existing code are listed in ALLOWED, each with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import tradewarden

PACKAGE_DIR = Path(tradewarden.__file__).parent
SRC = PACKAGE_DIR.parent

# (importing module, imported module) pairs that break a rule but are accepted on purpose, each with why.
# None today: the metrics route's counts and the server's own audit events went behind services.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> list[tuple[str, Path]]:
    return sorted((_module_name(p), p) for p in PACKAGE_DIR.rglob("*.py") if "static" not in p.parts)


def _imports(module: str, path: Path) -> Iterator[str]:
    """Every project module `module` imports (absolute names; `from a import b` yields a and a.b)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations(rule: str) -> list[str]:
    found: set[str] = set()
    for module, path in _modules():
        for imported in _imports(module, path):
            if not _under(imported, "tradewarden") or (module, imported) in ALLOWED:
                continue
            if _breaks(rule, module, imported):
                found.add(f"{module} imports {imported}")
    return sorted(found)


# The `serve`/`up` commands start the API server: the one place outside api that may import it.
SERVER_STARTERS = {"tradewarden.cli.serve"}


def _breaks(rule: str, module: str, imported: str) -> bool:
    if rule == "domain":
        return _under(module, "tradewarden.domain") and not _under(imported, "tradewarden.domain")
    if rule == "cli":
        # `python -m tradewarden` is the command line's own entry point, not a layer above it.
        return (
            _under(imported, "tradewarden.cli")
            and not _under(module, "tradewarden.cli")
            and module != "tradewarden.__main__"
        )
    if rule == "api":
        return (
            _under(imported, "tradewarden.api")
            and not _under(module, "tradewarden.api")
            and module not in SERVER_STARTERS
        )
    if rule == "routes":
        # Routes reach the store and adapters through services; the Secret type is a value, not a path.
        return (
            _under(module, "tradewarden.api")
            and _under(imported, "tradewarden.adapters")
            and not _under(imported, "tradewarden.adapters.vault.secret")
        )
    if rule == "sim":
        return _under(module, "tradewarden.sim") and not _under(imported, "tradewarden.sim")
    raise AssertionError(rule)


def test_the_scan_sees_the_package() -> None:
    names = {name for name, _ in _modules()}
    assert {
        "tradewarden.domain.fills",
        "tradewarden.api.routes.connections",
        "tradewarden.cli.serve",
    } <= names
    # The resolver must see relative and function-level imports, or the rules would hold vacuously.
    serve = dict(_modules())["tradewarden.cli.serve"]
    assert any(_under(i, "tradewarden.api") for i in _imports("tradewarden.cli.serve", serve))


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("domain", "domain imports nothing from the project but itself"),
        ("cli", "nothing imports cli"),
        ("api", "nothing imports api except the serve/up commands"),
        ("routes", "the api imports no adapter but the Secret type"),
        ("sim", "sim imports nothing from the rest of tradewarden"),
    ],
)
def test_layering_rule(rule: str, words: str) -> None:
    assert _violations(rule) == [], words


def test_a_violation_is_caught() -> None:
    assert _breaks("routes", "tradewarden.api.routes.x", "tradewarden.adapters.store.models")
    assert _breaks("routes", "tradewarden.api.auth", "tradewarden.adapters.audit")
    assert not _breaks("routes", "tradewarden.api.state", "tradewarden.adapters.vault.secret")
    assert _breaks("domain", "tradewarden.domain.fills", "tradewarden.services.app")
    assert not _breaks("api", "tradewarden.cli.serve", "tradewarden.api.server")
    assert _breaks("api", "tradewarden.services.app", "tradewarden.api.state")
