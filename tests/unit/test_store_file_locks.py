"""Checking a SQLite file this process already has open never opens (and closes) it a second time.

Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's included;
a second `open_app` next to a live Store used to do exactly that while checking the header.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tradewarden.adapters.store import db


def _opens_of(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real_open = Path.open

    def spying_open(self: Path, *args: object, **kwargs: object) -> object:
        if os.path.realpath(self) == os.path.realpath(path):
            seen.append(str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", spying_open)
    return seen


def test_a_file_held_by_a_store_is_not_reopened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tw.db"
    db.create_sqlite_database(path)
    seen = _opens_of(path, monkeypatch)
    db.check_sqlite_file(path)
    assert len(seen) == 1  # no Store yet: the header is read
    store = db.Store(f"sqlite:///{path}")
    try:
        with store.session() as session:
            session.connection()  # the Store really holds the file
        db.check_sqlite_file(tmp_path / "." / "tw.db")
        assert len(seen) == 1  # held by the Store: not opened again
    finally:
        store.dispose()
    db.check_sqlite_file(path)
    assert len(seen) == 2  # released: read again
