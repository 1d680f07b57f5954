"""The demo connection `tradewarden up` shows a newcomer: a simulator key, added and tested."""

from __future__ import annotations

from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.app import App
from tradewarden.services.connections import checks, service
from tradewarden.services.connections.tester import ConnectionReport

DEMO_NAME = "Demo (simulator)"
DEMO_EXCHANGE = "binance"


def ensure_demo_connection(
    app: App, passphrase: Secret, endpoint: str, credentials: dict[str, Secret]
) -> ConnectionReport:
    """Add the demo connection on `endpoint` (or repoint and rotate an existing one), then test it."""
    names = {view.name for view in service.list_connections(app)}
    if DEMO_NAME in names:
        # The simulator of a previous run is gone with its keys: point the demo at this one.
        service.set_endpoint(app, DEMO_NAME, endpoint)
        report, _swapped = checks.rotate_tested(app, passphrase, DEMO_NAME, credentials)
        return report
    service.add_connection(app, passphrase, DEMO_NAME, DEMO_EXCHANGE, credentials, endpoint=endpoint)
    [report] = checks.check_connections(app, passphrase, [DEMO_NAME])
    return report
