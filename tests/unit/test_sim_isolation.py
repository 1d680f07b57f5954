"""The simulator imports nothing from the rest of tradewarden (it plays the exchange, not the client)."""

from __future__ import annotations

import ast
from pathlib import Path

import tradewarden.sim

SIM_DIR = Path(tradewarden.sim.__file__).parent
ALLOWED_THIRD_PARTY = {"aiohttp", "multidict", "yarl", "cryptography"}


def _modules() -> list[Path]:
    return sorted(SIM_DIR.rglob("*.py"))


def _package_parts(path: Path) -> list[str]:
    rel = path.relative_to(SIM_DIR.parent.parent)  # .../src
    parts = list(rel.with_suffix("").parts)
    return parts[:-1]  # the package containing the module


def test_sim_has_modules() -> None:
    names = {p.name for p in _modules()}
    assert {"server.py", "venue.py", "matching.py", "ledger.py", "market.py", "keys.py"} <= names


def test_no_import_outside_sim() -> None:
    problems: list[str] = []
    for path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        package = _package_parts(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.name
                    if name.startswith("tradewarden") and not name.startswith("tradewarden.sim"):
                        problems.append(f"{path.name}: import {name}")
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    mod = node.module or ""
                    if mod == "tradewarden" or (
                        mod.startswith("tradewarden.")
                        and not (mod == "tradewarden.sim" or mod.startswith("tradewarden.sim."))
                    ):
                        problems.append(f"{path.name}: from {mod} import ...")
                else:
                    # resolve the relative import against the module's package
                    if node.level > len(package):
                        problems.append(f"{path.name}: relative import escapes the source tree")
                        continue
                    base = package[: len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                    if not (target == "tradewarden.sim" or target.startswith("tradewarden.sim.")):
                        problems.append(f"{path.name}: relative import resolves to {target}")
    assert problems == []


def test_checker_catches_escape() -> None:
    # the resolver itself must flag an escaping relative import
    package = ["tradewarden", "sim", "venues"]
    node = ast.parse("from ...adapters import x").body[0]
    assert isinstance(node, ast.ImportFrom)
    base = package[: len(package) - node.level + 1]
    target = ".".join([*base, node.module or ""])
    assert target == "tradewarden.adapters"
