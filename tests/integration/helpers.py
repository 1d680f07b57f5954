"""Helpers for tests that look inside the store and scan for leaked secrets."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path


def substrings(value: str, width: int = 8) -> set[str]:
    """Every `width`-character substring of `value` (the whole value when shorter)."""
    if len(value) <= width:
        return {value}
    return {value[i : i + width] for i in range(len(value) - width + 1)}


def find_leaks(haystacks: Iterable[bytes | str], needles: Iterable[str], width: int = 8) -> list[str]:
    """Which 8-character pieces of the needles appear in any haystack (empty list: no leak)."""
    pieces = set().union(*(substrings(n, width) for n in needles))
    found = []
    for hay in haystacks:
        blob = hay.encode("utf-8", "surrogateescape") if isinstance(hay, str) else hay
        found += [piece for piece in pieces if piece.encode() in blob]
    return sorted(set(found))


def db_files(home: Path) -> list[Path]:
    """The SQLite database and its WAL sidecars in `home`."""
    return [p for p in home.glob("tradewarden.db*") if p.is_file()]


def snapshot(home: Path) -> dict[str, bytes]:
    """Bytes of every database file, to prove a command changed nothing."""
    return {p.name: p.read_bytes() for p in db_files(home)}


def row_counts(home: Path) -> dict[str, int]:
    """Rows per table of the SQLite store."""
    with sqlite3.connect(home / "tradewarden.db") as conn:
        tables = ("connections", "sealed_credentials", "audit_events", "vault_header")
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def write_credentials(path: Path, **fields: str) -> Path:
    """Write a credentials JSON file (ccxt field names) and return its path."""
    path.write_text(json.dumps(fields))
    return path
