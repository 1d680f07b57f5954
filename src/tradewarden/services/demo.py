"""The simulator `up` runs and the demo connection a newcomer sees: a simulator key, added and tested.

A simulator keeps its keys in memory, so a restarted one knows none of them. `up` starts it again on the
port recorded in the home and re-registers the key of every connection pointing at it (opened from the
vault, with the permissions its last test read), so those connections pass their re-test unchanged.
"""

from __future__ import annotations

from sqlalchemy import select

from tradewarden.adapters.exchanges.client import open_credentials
from tradewarden.adapters.store.models import Connection
from tradewarden.adapters.vault.secret import Secret
from tradewarden.logs import get_logger
from tradewarden.services import simulator
from tradewarden.services.app import App
from tradewarden.services.connections import checks, service
from tradewarden.services.connections.tester import ConnectionReport
from tradewarden.services.vault_access import unlocked

log = get_logger(__name__)
DEMO_NAME = "Demo (simulator)"
DEMO_EXCHANGE = "binance"
DEMO_PERMISSIONS = ("read", "spot_trade")
LOOPBACK_WHITELIST = ("127.0.0.1",)


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


def on_simulator(app: App, sim_url: str | None) -> list[str]:
    """The connections `up` must keep a simulator for: those on the recorded one, and the demo."""
    views = service.list_connections(app)
    return [v.name for v in views if v.name == DEMO_NAME or simulator.is_simulated(v.endpoint, sim_url)]


def _permissions(app: App, row: Connection) -> list[str]:
    """What the key could do at its last test (so a refused key stays refused), else what its market needs."""
    with app.store.session() as session:
        latest = checks._latest_check(session, row.id) or {}
    perms = latest.get("permissions") if isinstance(latest.get("permissions"), dict) else None
    if perms:
        granted = [p for p in simulator.PERMISSIONS if perms.get(p)]
        if granted:
            return granted
    wanted = ["read", "spot_trade"]
    if row.market in ("futures", "both"):
        wanted.append("futures_trade")
    return wanted


def restore_simulated(app: App, passphrase: Secret, old_url: str | None, sim_url: str) -> list[str]:
    """Point the connections of the previous simulator (and the demo) at `sim_url` and re-register their
    keys there; returns their names. A key the simulator will not take is left to fail its test."""
    names = on_simulator(app, old_url)
    for name in names:
        view = service.show_view(app, name)
        if not simulator.is_simulated(view.endpoint, sim_url):
            service.set_endpoint(app, name, sim_url)
    with unlocked(app, passphrase) as (session, opened):
        rows = list(session.scalars(select(Connection).where(Connection.name.in_(names))))
        keys = [(row, open_credentials(opened, row)) for row in rows if row.status != "awaiting_api_key"]
    for row, credentials in keys:
        if row.key_type != "hmac" or "apiKey" not in credentials:
            continue  # the simulator registers self-generated keys only with their public half
        try:
            simulator.register_key(
                sim_url, row.exchange, _permissions(app, row), LOOPBACK_WHITELIST, credentials
            )
        except OSError as exc:
            log.warning("simulator did not take a key back", connection=row.name, error=type(exc).__name__)
    return names
