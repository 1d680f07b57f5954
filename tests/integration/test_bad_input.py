"""Issue 2: every bad input gets one clear line naming the field and the fix, a non-zero exit, no row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.helpers import row_counts, snapshot

GOOD = {"apiKey": "AKgood0123456789", "secret": "good-secret-0123456789"}


def _creds(**overrides: object) -> bytes:
    data = {**GOOD, **overrides}
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


# (id, argv after `connections add`, stdin bytes or None, words the error line must contain)
CASES: list[tuple[str, list[str], bytes | None, list[str]]] = [
    ("unknown exchange", ["X", "-e", "binanse", "-c", "-"], _creds(), ["exchange", "binance"]),
    ("empty name", ["", "-e", "binance", "-c", "-"], _creds(), ["name", "empty"]),
    ("blank name", ["   ", "-e", "binance", "-c", "-"], _creds(), ["name", "empty"]),
    ("over-long name", ["N" * 65, "-e", "binance", "-c", "-"], _creds(), ["name", "65", "shorter"]),
    ("control chars in name", ["bad\x07name", "-e", "binance", "-c", "-"], _creds(), ["name", "control"]),
    ("duplicate name", ["existing", "-e", "binance", "-c", "-"], _creds(), ["name", "already exists"]),
    (
        "duplicate name other case",
        ["EXISTING", "-e", "binance", "-c", "-"],
        _creds(),
        ["name", "already exists"],
    ),
    ("missing secret", ["X", "-e", "binance", "-c", "-"], _creds(secret=...), ["secret", "missing"]),
    ("missing api key", ["X", "-e", "binance", "-c", "-"], _creds(apiKey=...), ["apiKey", "missing"]),
    (
        "kucoin without passphrase",
        ["X", "-e", "kucoin", "-c", "-"],
        _creds(),
        ["password", "kucoin", "passphrase"],
    ),
    ("okx without passphrase", ["X", "-e", "okx", "-c", "-"], _creds(), ["password", "okx", "passphrase"]),
    ("malformed json", ["X", "-e", "binance", "-c", "-"], b'{"apiKey": "abc", ', ["credentials", "JSON"]),
    ("binary garbage", ["X", "-e", "binance", "-c", "-"], bytes(range(256)) * 4, ["credentials", "UTF-8"]),
    (
        "1 MB secret",
        ["X", "-e", "binance", "-c", "-"],
        _creds(secret="s" * 1_000_000),
        ["credentials", "bytes"],
    ),
    ("secret too short", ["X", "-e", "binance", "-c", "-"], _creds(secret="abc"), ["secret", "8 to"]),
    ("json array", ["X", "-e", "binance", "-c", "-"], b'["a", "b"]', ["credentials", "object"]),
    ("misspelt field", ["X", "-e", "binance", "-c", "-"], _creds(apikey="x" * 10), ["credentials", "apikey"]),
    (
        "number instead of string",
        ["X", "-e", "binance", "-c", "-"],
        _creds(secret=12345678901),
        ["secret", "string"],
    ),
    (
        "whitespace around secret",
        ["X", "-e", "binance", "-c", "-"],
        _creds(secret=" padded-secret-123 "),
        ["secret", "whitespace"],
    ),
    ("empty stdin", ["X", "-e", "binance", "-c", "-"], b"", ["credentials", "empty"]),
    (
        "missing file",
        ["X", "-e", "binance", "-c", "/nonexistent/creds.json"],
        None,
        ["credentials", "does not exist"],
    ),
    ("bad market", ["X", "-e", "binance", "--market", "options", "-c", "-"], _creds(), ["market", "spot"]),
    (
        "bad endpoint",
        ["X", "-e", "binance", "--endpoint", "ftp://x", "-c", "-"],
        _creds(),
        ["endpoint", "http"],
    ),
    (
        "broken PEM secret",
        ["X", "-e", "binance", "-c", "-"],
        _creds(secret="-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----"),
        ["secret", "PEM"],
    ),
]


@pytest.fixture
def with_existing(cli: Cli) -> Cli:
    assert cli("init").code == 0
    assert (
        cli("connections", "add", "--no-test", "existing", "-e", "binance", "-c", "-", stdin=_creds()).code
        == 0
    )
    return cli


@pytest.mark.parametrize(("argv", "stdin", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly_and_writes_nothing(
    with_existing: Cli, argv: list[str], stdin: bytes | None, words: list[str]
) -> None:
    cli = with_existing
    counts, before = row_counts(cli.home), snapshot(cli.home)
    result = cli("connections", "add", "--no-test", *argv, stdin=stdin)
    assert result.code not in (0, 70), result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    assert row_counts(cli.home) == counts
    assert snapshot(cli.home) == before


def test_bad_rotation_keeps_the_old_credentials(with_existing: Cli, tmp_path: Path) -> None:
    cli = with_existing
    before = snapshot(cli.home)
    result = cli("connections", "rotate", "existing", "-c", "-", stdin=_creds(secret=...))
    assert result.code == 1 and "secret" in result.stderr
    missing = cli("connections", "rotate", "nope", "-c", "-", stdin=_creds())
    assert missing.code == 1 and "no connection named" in missing.stderr
    assert snapshot(cli.home) == before


def test_there_are_at_least_fifteen_cases() -> None:
    assert len(CASES) >= 15
