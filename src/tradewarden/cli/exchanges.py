"""`tradewarden exchanges`: the supported exchanges and what a connection to each needs."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from tradewarden.cli.common import JSON_OPTION, out, print_json
from tradewarden.services.exchanges import summary, supported_exchanges


def exchanges(as_json: bool = JSON_OPTION) -> None:
    """List the supported exchanges, what a connection to each needs, and what the test can check.

    Use the id with: tradewarden connections add NAME --exchange ID
    """
    rows = [summary(info) for info in supported_exchanges()]
    if as_json:
        print_json(rows)
        return
    table = Table("Id", "Exchange", "Tier", "Markets", "Needs", "Permission check", "Simulator", "Testnet")
    for row in rows:
        table.add_row(
            escape(row["id"]),
            escape(row["name"]),
            str(row["tier"]),
            escape(", ".join(row["markets"])),
            escape(row["needs"]),
            "yes" if row["permission_check"] else "no",
            "yes" if row["simulator"] else "no",
            escape(row["testnet"] or "no"),
        )
    out.print(table)
    out.print("Add one with: tradewarden connections add NAME --exchange ID --credentials FILE")
    out.print("A testnet or demo account (where the Testnet column says one): add --testnet")
