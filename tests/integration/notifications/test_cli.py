"""`tradewarden notifications add|list|test|remove`: key shown once, bad input refused, test's exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, Cli
from tests.integration.notifications.conftest import TELEGRAM_TOKEN, Receiver
from tradewarden.services.notifications import verify


def _init(cli: Cli) -> None:
    result = cli("init")
    assert result.code == 0, result.stderr


def _list(cli: Cli) -> list[dict[str, object]]:
    result = cli("notifications", "list", "--json")
    assert result.code == 0, result.stderr
    listed: list[dict[str, object]] = json.loads(result.stdout)
    return listed


def test_add_a_webhook_prints_its_signing_key_once_and_test_sends_a_signed_message(
    cli: Cli, receiver: Receiver
) -> None:
    _init(cli)
    url = receiver.url + "/hook/capability-in-path?token=abc123"
    added = cli("notifications", "add", "ops", "--webhook", url, "--events", "fill,stop_loss")
    assert added.code == 0, added.stderr
    key = added.stdout.strip()
    assert key.startswith("twsk_") and len(key) > 40
    assert "shown this once" in added.stderr and "X-TradeWarden-Signature" in added.stderr
    [listed] = _list(cli)
    assert (
        listed["name"] == "ops" and listed["kind"] == "webhook" and listed["events"] == ["fill", "stop_loss"]
    )
    assert listed["target"] == receiver.url + "/…"  # the origin only: the path may be a capability
    tested = cli("notifications", "test", "ops")
    assert tested.code == 0, tested.stderr
    assert "delivered" in tested.stdout
    [request] = receiver.wait_for(1, "/hook/capability-in-path")
    assert request.json()["kind"] == "test"
    assert verify(key, request.body, request.headers["x-tradewarden-signature"])
    [listed] = _list(cli)
    assert isinstance(listed["last_delivery"], dict) and listed["last_delivery"]["ok"] is True
    table = cli("notifications", "list")
    assert table.code == 0 and "ops" in table.stdout and "test ok" in table.stdout
    for output in cli.transcript[4:]:  # after init and add: the key, path and query never appear again
        assert key not in output and "capability-in-path" not in output and "abc123" not in output


def test_add_telegram_reads_the_token_from_a_file_or_stdin_and_never_shows_it(
    cli: Cli, receiver: Receiver, tmp_path: Path
) -> None:
    _init(cli)
    token_file = tmp_path / "bot-token.txt"
    token_file.write_text(TELEGRAM_TOKEN + "\n")
    base = receiver.url + "/tg"
    added = cli(
        "notifications", "add", "phone", "--telegram", "--chat-id", "123456789",
        "--token-file", str(token_file), "--api-base", base,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    piped = cli(
        "notifications", "add", "group", "--telegram", "--chat-id", "@tw_alerts", "--token-file", "-",
        stdin=TELEGRAM_TOKEN.encode(),
    )  # fmt: skip
    assert piped.code == 0, piped.stderr
    tested = cli("notifications", "test", "phone", "--json")
    assert tested.code == 0, tested.stderr
    assert json.loads(tested.stdout) == {
        "name": "phone",
        "ok": True,
        "attempts": 1,
        "status_code": 200,
        "error": None,
    }
    [request] = receiver.wait_for(1, f"/tg/bot{TELEGRAM_TOKEN}/sendMessage")
    assert request.json()["chat_id"] == "123456789"
    targets = {c["name"]: c["target"] for c in _list(cli)}
    assert targets["group"] == "telegram chat @tw_alerts"
    assert targets["phone"].startswith("telegram chat 123456789 via http://127.0.0.1:")
    for output in cli.transcript:
        assert TELEGRAM_TOKEN.split(":")[1] not in output


def test_test_exits_1_with_the_reason_when_the_receiver_fails(cli: Cli, receiver: Receiver) -> None:
    _init(cli)
    receiver.always_status = 500
    assert cli("notifications", "add", "ops", "--webhook", receiver.url + "/hook").code == 0
    tested = cli("notifications", "test", "ops")
    assert tested.code == 1
    assert "Not delivered" in tested.stderr and "HTTP 500" in tested.stderr
    unreachable = cli("notifications", "add", "gone", "--webhook", "http://127.0.0.1:9/nothing")
    assert unreachable.code == 0
    tested = cli("notifications", "test", "gone")
    assert tested.code == 1 and "could not connect" in tested.stderr
    missing = cli("notifications", "test", "nope")
    assert missing.code == 1 and "no notification channel 'nope'" in missing.stderr


def test_remove(cli: Cli, receiver: Receiver) -> None:
    _init(cli)
    assert cli("notifications", "add", "ops", "--webhook", receiver.url + "/hook").code == 0
    removed = cli("notifications", "remove", "OPS")  # names compare ignoring case
    assert removed.code == 0 and "Removed" in removed.stdout
    assert _list(cli) == []
    again = cli("notifications", "remove", "ops")
    assert again.code == 1 and "notifications list" in again.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--webhook", "ftp://example.com/x"], None, "must start with https:// or http://"),
        (["--webhook", "file:///etc/passwd"], None, "must start with https:// or http://"),
        (["--webhook", "https://user:hunter2-pw@example.com/x"], None, "user name or password"),
        (["--webhook", "https://exa mple.com/"], None, "space or control character"),
        (["--webhook", "https:///path-only"], None, "has no host"),
        (
            ["--webhook", "https://example.com/", "--events", "fill,moon_landing"],
            None,
            "'moon_landing' is not",
        ),
        (["--webhook", "https://example.com/", "--chat-id", "1"], None, "for --telegram only"),
        ([], None, "exactly one of --webhook URL or --telegram"),
        (["--telegram", "--token-file", "-"], b"x", "--telegram needs --chat-id"),
        (["--telegram", "--chat-id", "1"], None, "needs the bot token"),
        (["--telegram", "--chat-id", "not a chat", "--token-file", "-"], b"1:x", "is not a Telegram chat id"),
        (["--telegram", "--chat-id", "1", "--token-file", "-"], b"", "the token file is empty"),
        (["--telegram", "--chat-id", "1", "--token-file", "-"], b"  \n", "the token file is empty"),
        (["--telegram", "--chat-id", "1", "--token-file", "/nonexistent/t"], None, "does not exist"),
        (["--telegram", "--chat-id", "1", "--token-file", "-"], b"hunter2-token", "does not look like one"),
        (
            ["--telegram", "--chat-id", "1", "--token-file", "-", "--api-base", "gopher://x"],
            TELEGRAM_TOKEN.encode(),
            "must start with https:// or http://",
        ),
    ],
)
def test_bad_input_is_refused_with_the_fix_and_nothing_is_written(
    cli: Cli, args: list[str], stdin: bytes | None, message: str
) -> None:
    _init(cli)
    result = cli("notifications", "add", "ops", *args, stdin=stdin)
    assert result.code != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stdout + result.stderr  # a refused secret is never echoed
    assert _list(cli) == []


def test_a_duplicate_name_is_refused(cli: Cli) -> None:
    _init(cli)
    assert cli("notifications", "add", "Ops", "--webhook", "https://example.com/a").code == 0
    again = cli("notifications", "add", "ops", "--webhook", "https://example.com/b")
    assert again.code == 1 and "exists" in again.stderr and "choose another name" in again.stderr
    assert [c["target"] for c in _list(cli)] == ["https://example.com/…"]


def test_a_wrong_passphrase_adds_nothing(cli: Cli) -> None:
    _init(cli)
    result = cli(
        "notifications", "add", "ops", "--webhook", "https://example.com/a",
        env={"TRADEWARDEN_PASSPHRASE": "not-the-" + PASSPHRASE},
    )  # fmt: skip
    assert result.code == 2 and "wrong vault passphrase" in result.stderr
    assert _list(cli) == []


def test_help_names_the_commands_and_gives_examples(cli: Cli) -> None:
    top = cli("notifications", "--help")
    assert top.code == 0
    for command in ("add", "list", "test", "remove"):
        assert command in top.stdout
    add = cli("notifications", "add", "--help")
    assert "--webhook" in add.stdout and "--token-file" in add.stdout and "Examples" in add.stdout
    assert "take_profit" in add.stdout  # the event kinds are listed
