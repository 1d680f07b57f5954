"""Entry point of the `tradewarden` command."""

import typer

app = typer.Typer(no_args_is_help=True, help="TradeWarden: trading bots on least-privilege exchange keys.")


def main() -> None:
    """Run the CLI."""
    app()
