"""Issue 9.8: no traceback reaches the terminal, and a damaged database is an error with the remedy.

The traceback cases run the real console script (a subprocess), where logging is not yet set up when
it fails; the database cases run in-process (same code path, faster).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import Cli, CliResult
from tradewarden.logs import write_crash_log


def assert_one_clear_line(result: CliResult, *words: str) -> None:
    """Non-zero exit, no traceback, a short message holding `words`."""
    assert result.code != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.attack("traceback to terminal")
def test_an_unusable_home_is_one_line(cli: Cli) -> None:
    result = cli("connections", "list", subprocess_=True, env={"TRADEWARDEN_HOME": "/proc/1/tradewarden"})
    assert_one_clear_line(result, "TRADEWARDEN_HOME", "/proc/1/tradewarden")


@pytest.mark.attack("traceback to terminal")
@pytest.mark.parametrize("variable", ["TRADEWARDEN_KDF_TIME_COST", "TRADEWARDEN_KDF_MEMORY_KIB"])
def test_a_non_numeric_setting_names_the_variable(cli: Cli, variable: str) -> None:
    result = cli("init", subprocess_=True, env={variable: "three"})
    assert_one_clear_line(result, variable, "whole number")
    assert "three" not in result.stderr  # the value is not repeated


@pytest.mark.attack("traceback to terminal")
def test_a_deeply_nested_credentials_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    assert cli("init").code == 0
    path = tmp_path / "nested.json"
    path.write_text("[" * 30_000 + "]" * 30_000)  # 60 KB, under the size limit
    result = cli("connections", "add", "Deep", "-e", "binance", "-c", str(path), subprocess_=True)
    assert_one_clear_line(result, "credentials", "nested")


@pytest.mark.attack("traceback to terminal")
def test_an_unexpected_error_is_logged_to_a_named_file(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("init").code == 0
    from tradewarden.services.connections import service

    def broken(_app: object) -> list[object]:
        raise RuntimeError("boom in the listing")

    monkeypatch.setattr(service, "list_connections", broken)
    result = cli("connections", "list")
    assert result.code == 70
    assert_one_clear_line(result, "RuntimeError", str(cli.home / "tradewarden.log"))
    assert "boom in the listing" in (cli.home / "tradewarden.log").read_text()


@pytest.mark.attack("traceback to terminal")
def test_the_crash_log_goes_to_a_private_temp_file_when_the_home_is_unusable() -> None:
    try:
        raise ValueError("before any home existed")
    except ValueError as exc:
        written = write_crash_log(exc, Path("/proc/1/tradewarden"))
    assert written is not None and written.is_file()
    try:
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        text = written.read_text()
        assert "Traceback" in text and "before any home existed" in text
    finally:
        written.unlink()


def _database(cli: Cli) -> Path:
    assert cli("init").code == 0
    return cli.home / "tradewarden.db"


@pytest.mark.attack("corrupt database")
def test_a_zero_length_database_is_refused_never_reinitialised(cli: Cli) -> None:
    db = _database(cli)
    db.write_bytes(b"")
    for args in (("connections", "list"), ("init",)):
        result = cli(*args)
        assert_one_clear_line(result, "empty", "backup", "tradewarden init")
        assert db.stat().st_size == 0  # nothing was created in its place


@pytest.mark.attack("corrupt database")
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_truncated_or_garbage_database_is_refused(cli: Cli, damage: str) -> None:
    db = _database(cli)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3] if damage == "truncated" else os.urandom(len(data)))
    result = cli("connections", "list")
    assert_one_clear_line(result, str(db), "backup", "tradewarden init")


@pytest.mark.attack("corrupt database")
def test_damaged_pages_behind_a_good_header_are_an_error_with_the_remedy(cli: Cli) -> None:
    db = _database(cli)
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page:] = b"\xa5" * (len(data) - page)  # every page but the first overwritten
    db.write_bytes(bytes(data))
    result = cli("connections", "list", "--json", subprocess_=True)
    assert_one_clear_line(result, "damaged", "backup", "tradewarden.log")
    assert result.stdout == ""
