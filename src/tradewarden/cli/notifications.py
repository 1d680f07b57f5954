"""`tradewarden notifications ...`: webhook and Telegram channels for bot and connection events."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from tradewarden.adapters.vault.secret import Secret
from tradewarden.cli.common import (
    JSON_OPTION,
    MAX_READ,
    PASSPHRASE_FILE_OPTION,
    app_context,
    err,
    out,
    print_json,
    read_passphrase,
)
from tradewarden.services.connections.validation import validate_name
from tradewarden.services.errors import InputError
from tradewarden.services.notifications import KINDS, SIGNATURE_HEADER, channels, send_probe
from tradewarden.services.vault_access import unlocked

app = typer.Typer(
    no_args_is_help=True,
    help="Notifications: a signed webhook or a Telegram chat hears of fills, take profit, stop loss, "
    "Recovery Mode, bots paused or stopped, and connection status changes. Messages never hold a secret.",
)

EVENTS_HELP = (
    f"Comma-separated event kinds to send: {', '.join(KINDS)}, or all. "
    "Default: fill, take_profit, stop_loss, recovery, bot_paused, bot_stopped, bot_error, connection_status."
)


def _read_token(source: str) -> Secret:
    """The bot token from a file or `-` (stdin); never from the command line."""
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_READ)
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(
                f"file {source!r} does not exist",
                "give the path of a file holding only the bot token, or - to read it from stdin",
                field="token-file",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_READ)
    if len(raw) >= MAX_READ:
        raise InputError("the token file is larger than 1 MiB", "put only the bot token in it", "token-file")
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InputError(
            "the token file is not UTF-8 text", "put only the bot token in it", "token-file"
        ) from None
    if not text:
        raise InputError(
            "the token file is empty",
            "put the token BotFather gave you in it (or pipe it: ... --token-file - < token.txt)",
            "token-file",
        )
    return Secret(text)


@app.command("add")
def add(
    name: str = typer.Argument(..., help='A name for the channel, e.g. "ops webhook" or "my phone".'),
    webhook: str | None = typer.Option(
        None, "--webhook", help="Send a signed JSON POST to this http(s) URL (no user:password@ in it)."
    ),
    telegram: bool = typer.Option(False, "--telegram", help="Send to a Telegram chat through a bot."),
    chat_id: str | None = typer.Option(
        None, "--chat-id", help="Telegram chat id (number, -100… for groups) or @channel (with --telegram)."
    ),
    token_file: str | None = typer.Option(
        None,
        "--token-file",
        help="File holding the Telegram bot token, or - to read it from stdin (never on the command line).",
    ),
    api_base: str | None = typer.Option(
        None, "--api-base", help="Telegram Bot API base URL (default https://api.telegram.org)."
    ),
    events: str | None = typer.Option(None, "--events", help=EVENTS_HELP),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a channel. A webhook's signing key is printed once; Telegram's token is sealed in the vault.

    Examples:

      tradewarden notifications add ops --webhook https://hooks.example.com/tw --events fill,stop_loss

      tradewarden notifications add phone --telegram --chat-id 123456789 --token-file bot-token.txt

    Webhook receivers verify the header X-TradeWarden-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">
    under the signing key (see the README).
    """
    if (webhook is None) == (not telegram):
        raise InputError(
            "give exactly one of --webhook URL or --telegram",
            "e.g. --webhook https://host/path, or --telegram --chat-id ID --token-file FILE",
            "channel",
        )
    # Cheap checks first, so a typo fails before any prompt or stdin read.
    validate_name(name)
    channels.validate_events(events)
    if webhook is not None:
        if chat_id is not None or token_file is not None or api_base is not None:
            raise InputError(
                "--chat-id, --token-file and --api-base are for --telegram only", "drop them", "channel"
            )
        channels.validate_webhook_url(webhook)
        passphrase = read_passphrase(passphrase_file)
        with app_context() as ctx:
            view, key = channels.add_webhook(ctx, passphrase, name, webhook, events)
        if as_json:
            print_json({**view.to_json(), "signing_key": key.reveal()})
            return
        sys.stdout.write(key.reveal() + "\n")
        err.print(
            f"Webhook [bold]{escape(view.name)}[/] added ({escape(view.target)}). "
            "The line above is its signing key, shown this once: "
            f"receivers check the {SIGNATURE_HEADER} header with it."
        )
        return
    if chat_id is None:
        raise InputError("--telegram needs --chat-id", "add --chat-id 123456789 (or @channel)", "chat_id")
    if token_file is None:
        raise InputError(
            "--telegram needs the bot token",
            "add --token-file FILE, or --token-file - to read it from stdin",
            "token-file",
        )
    channels.validate_chat_id(chat_id)
    channels.validate_api_base(api_base)
    token = channels.validate_bot_token(_read_token(token_file))
    passphrase = read_passphrase(passphrase_file, stdin_taken=token_file == "-")
    with app_context() as ctx:
        view = channels.add_telegram(ctx, passphrase, name, chat_id, token, events, api_base)
    if as_json:
        print_json(view.to_json())
        return
    out.print(
        f"Telegram channel [bold]{escape(view.name)}[/] added ({escape(view.target)}); "
        "the bot token is sealed. "
        f"Try it: tradewarden notifications test {escape(shlex.quote(view.name))}"
    )


@app.command("list")
def list_(as_json: bool = JSON_OPTION) -> None:
    """List channels with their event kinds and last delivery (never a URL path, key or token)."""
    with app_context(read_only=True) as ctx:
        views = channels.list_channels(ctx)
    if as_json:
        print_json([v.to_json() for v in views])
        return
    if not views:
        out.print("No notification channels. Add one: tradewarden notifications add NAME --webhook URL")
        return
    table = Table("Name", "Kind", "Target", "Events", "Last delivery")
    for v in views:
        last = v.last_delivery
        shown = "never"
        if last is not None:
            result = "ok" if last.ok else f"failed: {last.error or 'unknown'}"
            shown = f"{last.ts:%Y-%m-%d %H:%M} {last.event_kind} {result}"
        table.add_row(escape(v.name), v.kind, escape(v.target), ", ".join(v.events), escape(shown))
    out.print(table)


@app.command("test")
def test(
    name: str = typer.Argument(..., help="Channel name."),
    passphrase_file: Path | None = PASSPHRASE_FILE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a test message now; exit 1 with the reason when it does not arrive.

    Example: tradewarden notifications test ops
    """
    passphrase = read_passphrase(passphrase_file)
    with app_context(read_only=True) as ctx:
        with unlocked(ctx, passphrase) as (_session, opened):
            pass  # the transaction ends here: the outcome is written by another one while sending
        shown, outcome = asyncio.run(send_probe(ctx, opened, name))
    if as_json:
        print_json(
            {
                "name": shown,
                "ok": outcome.ok,
                "attempts": outcome.attempts,
                "status_code": outcome.status_code,
                "error": outcome.error,
            }
        )
    elif outcome.ok:
        out.print(f"Test message delivered to [bold]{escape(shown)}[/].")
    else:
        err.print(
            f"[red]Not delivered[/] to {escape(shown)} after {outcome.attempts} tries: "
            f"{escape(outcome.error or 'unknown error')}. Check the receiver's URL and that it answers 2xx."
        )
    if not outcome.ok:
        raise typer.Exit(1)


@app.command("remove")
def remove(name: str = typer.Argument(..., help="Channel name or id.")) -> None:
    """Remove a channel; its sealed secrets and delivery history are deleted.

    Example: tradewarden notifications remove ops
    """
    with app_context(read_only=True) as ctx:
        view = channels.remove_channel(ctx, name)
    out.print(f"Removed notification channel [bold]{escape(view.name)}[/].")
