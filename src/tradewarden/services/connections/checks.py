"""Running the connection test on stored connections: open the vault, test, keep the history.

Each connection stands alone in a batch: a key that no longer decrypts becomes that connection's
`integrity_error` (audited), an exchange that answers nonsense its `exchange_unavailable`; the rest are
tested as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradewarden.adapters import audit
from tradewarden.adapters.exchanges import registry
from tradewarden.adapters.exchanges.client import build_client, endpoint_of, open_credentials
from tradewarden.adapters.exchanges.endpoint import AuthEndpoint, split_userinfo
from tradewarden.adapters.exchanges.shared import SharedClients, http_session
from tradewarden.adapters.store.models import Connection, ConnectionCheck, utcnow
from tradewarden.adapters.vault.crypto import DecryptionError
from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault
from tradewarden.logs import get_logger
from tradewarden.services import public_ip, simulator
from tradewarden.services.app import App
from tradewarden.services.connections import service, validation
from tradewarden.services.connections.service import ConnectionView, find
from tradewarden.services.connections.tester import (
    Clients,
    ConnectionReport,
    failed_report,
    run_test,
    set_public_ip,
)
from tradewarden.services.errors import InputError
from tradewarden.services.vault_access import unlocked

log = get_logger(__name__)
UNDECRYPTABLE = "the sealed key did not decrypt (altered or moved)"


@dataclass(frozen=True)
class Target:
    """What the test needs of a connection, with its credentials already opened."""

    connection_id: str
    name: str
    exchange: str
    market: str
    endpoint: str | None
    credentials: Mapping[str, Secret]
    key_version: int | None = None  # the key version in force when the target was read (rotation CAS)
    integrity_error: bool = False  # its sealed credentials did not decrypt: never sent anywhere
    simulated: bool = False  # the endpoint is the simulator `up` runs
    testnet: bool = False  # the exchange's testnet/demo environment (ccxt sandbox mode)


def open_target(app: App, session: Session, opened: UnlockedVault, row: Connection) -> Target:
    """A connection, its credentials opened; marked integrity_error (and audited) if they do not open."""
    try:
        credentials = open_credentials(opened, row)
        endpoint = endpoint_of(opened, row)  # masked text, sealed proxy credentials attached
    except DecryptionError:
        log.warning("sealed credentials do not decrypt", connection=row.name)
        fields = sorted(cred.field for cred in row.credentials)
        audit.record(session, "connection.integrity_error", app.actor, row, fields=fields)
        return Target(row.id, row.name, row.exchange, row.market, row.endpoint, {}, integrity_error=True)
    simulated = simulator.is_simulated(row.endpoint, simulator.recorded_url(app.settings.home_dir))
    return Target(
        row.id,
        row.name,
        row.exchange,
        row.market,
        endpoint,
        credentials,
        simulated=simulated,
        testnet=row.testnet,
    )


def make_clients(target: Target, timeout_ms: int, shared: SharedClients | None = None) -> Clients:
    """The ccxt client(s) for a target: the market's own API, plus futures for market `both`."""
    if target.testnet:
        shared = None  # shared public clients speak to the production hosts: a testnet uses its own
    session = shared.session if shared is not None else None
    info = registry.get_exchange(target.exchange)
    if info is None:
        client = build_client(target.exchange, target.credentials, target.endpoint, None, timeout_ms, session)
        return Clients(target.exchange, target.market, client, target.exchange, endpoint=target.endpoint)
    main_market = "futures" if target.market == "futures" else "spot"
    main_id = registry.ccxt_id_for(info, main_market)
    main_options = registry.client_options(info, main_market, target.testnet)
    main = build_client(main_id, target.credentials, target.endpoint, main_options, timeout_ms, session)
    clients = Clients(
        target.exchange,
        target.market,
        main,
        main_id,
        endpoint=target.endpoint,
        main_options=main_options,
        shared=shared,
    )
    if target.market == "both":
        clients.futures_ccxt_id = registry.ccxt_id_for(info, "futures")
        clients.futures = build_client(
            clients.futures_ccxt_id,
            target.credentials,
            target.endpoint,
            registry.client_options(info, "futures", target.testnet),
            timeout_ms,
            session,
        )
    return clients


async def _close(clients: Clients) -> None:
    for client in (clients.main, clients.futures):
        if client is not None:
            await client.close()


async def run_targets(targets: Sequence[Target], timeout_ms: int = 30_000) -> list[ConnectionReport]:
    """Test several targets concurrently over one HTTP session; public calls are shared (single-flight)."""
    async with http_session() as session:
        shared = SharedClients(session, timeout_ms)

        async def one(target: Target) -> ConnectionReport:
            if target.integrity_error:
                return failed_report(target.name, target.exchange, "integrity_error", UNDECRYPTABLE)
            try:
                clients = make_clients(target, timeout_ms, shared)
            except Exception as exc:  # one connection's bad setup must not stop the batch
                log.warning("connection client failed", connection=target.name, error=type(exc).__name__)
                detail = f"the exchange client could not be set up ({type(exc).__name__})"
                return failed_report(target.name, target.exchange, "exchange_unavailable", detail)
            try:
                info = registry.get_exchange(target.exchange)
                return await run_test(target.name, info, clients, simulated=target.simulated)
            finally:
                with contextlib.suppress(Exception):
                    await _close(clients)

        try:
            return list(await asyncio.gather(*(one(target) for target in targets)))
        finally:
            await shared.close()


def load_targets(app: App, passphrase: Secret, names: Sequence[str] | None) -> list[Target]:
    """Open the credentials of the named connections (all when `names` is None) with one unlock."""
    with unlocked(app, passphrase) as (session, opened):
        if names is None:
            rows = list(session.scalars(select(Connection).order_by(Connection.name)))
        else:
            rows = [find(session, name) for name in names]
        return [open_target(app, session, opened, row) for row in rows]


def name_public_ip(app: App, reports: Sequence[ConnectionReport]) -> None:
    """Put this server's public address in every ip_not_allowed report (looked up only when needed)."""
    refused = [r for r in reports if r.status == "ip_not_allowed"]
    if refused:
        address = public_ip.public_address(app.settings).address
        for report in refused:
            set_public_ip(report, registry.get_exchange(report.exchange), address)


def record_reports(
    app: App,
    targets: Sequence[Target],
    reports: Sequence[ConnectionReport],
    previous: Mapping[str, str] | None = None,
) -> None:
    """Store each report in the history, set the connections' status, audit the test and any change.

    `previous` (by connection id) is the status before a key change, so a rotation's status change is
    told from the status the old key had, not from the "untested" of the moment in between.
    """
    with app.store.session() as session:
        for target, report in zip(targets, reports, strict=True):
            row = session.get(Connection, target.connection_id)
            session.add(
                ConnectionCheck(
                    connection_id=row.id if row else None,
                    connection_name=target.name,
                    status=report.status,
                    ok=report.ok,
                    result_json=json.dumps(report.to_json()),
                )
            )
            if row is None:  # removed while the test ran
                continue
            before = (previous or {}).get(row.id, row.status)
            row.status = report.status
            row.status_checked_at = utcnow()
            audit.record(session, "connection.tested", app.actor, row, status=report.status, code=report.code)
            if before != report.status:
                audit.record(
                    session,
                    "connection.status_changed",
                    app.actor,
                    row,
                    previous=before,
                    status=report.status,
                )


def check_connections(
    app: App, passphrase: Secret, names: Sequence[str] | None, timeout_ms: int = 30_000
) -> list[ConnectionReport]:
    """Test the named connections (all when None) and record the results."""
    targets = load_targets(app, passphrase, names)
    reports = asyncio.run(run_targets(targets, timeout_ms))
    name_public_ip(app, reports)
    record_reports(app, targets, reports)
    return reports


def history(app: App, name: str, limit: int = 20) -> list[dict[str, object]]:
    """The newest test results of a connection, newest first."""
    with app.store.session() as session:
        row = find(session, name)
        checks = session.scalars(
            select(ConnectionCheck)
            .where(ConnectionCheck.connection_id == row.id)
            .order_by(ConnectionCheck.checked_at.desc(), ConnectionCheck.id.desc())
            .limit(limit)
        )
        return [{"checked_at": c.checked_at.isoformat(), **json.loads(c.result_json)} for c in checks]


def _latest_check(session: Session, connection_id: str) -> dict[str, Any] | None:
    """The newest stored test result of one connection, with its `checked_at`; None if never tested.

    Newest first by primary key, stopping at the first match: connection_checks has no index on
    connection_id, and the newest results sit at the end of the table (every monitor round adds one each).
    """
    found = session.execute(
        select(ConnectionCheck.checked_at, ConnectionCheck.result_json)
        .where(ConnectionCheck.connection_id == connection_id)
        .order_by(ConnectionCheck.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    try:
        data = json.loads(found.result_json)
    except (ValueError, TypeError):
        return None
    return {**data, "checked_at": found.checked_at} if isinstance(data, dict) else None


def latest_warnings(app: App, ids: Iterable[str] | None = None) -> dict[str, list[str]]:
    """The warnings of each tested connection's newest test (e.g. permissions_unknown), by connection id.

    Connections not tested since their key changed (untested, awaiting_api_key) have none to show.
    """
    with app.store.session() as session:
        query = select(Connection.id).where(Connection.status.not_in(("untested", "awaiting_api_key")))
        if ids is not None:
            query = query.where(Connection.id.in_(list(ids)))
        warnings: dict[str, list[str]] = {}
        for connection_id in session.scalars(query):
            data = _latest_check(session, connection_id) or {}
            warnings[connection_id] = [w for w in data.get("warnings") or [] if isinstance(w, str)]
        return warnings


def permissions_verified(session: Session, row: Connection) -> bool:
    """True when the newest test of the connection's current key read its permissions from the exchange.

    Bots must run only where this holds: on exchanges with no permission endpoint it never does.
    """
    if row.status in ("untested", "awaiting_api_key", "integrity_error"):
        return False
    data = _latest_check(session, row.id)
    if data is None or data["checked_at"] < row.updated_at:
        return False  # never tested, or tested before the key or endpoint last changed
    perms = data.get("permissions")
    return isinstance(perms, dict) and perms.get("withdraw") is not None


def rotate_tested(
    app: App, passphrase: Secret, name: str, credentials: dict[str, Secret], timeout_ms: int = 30_000
) -> tuple[ConnectionReport, bool]:
    """Test new credentials first; swap them in (atomically) only when the test passes.

    Returns the report and whether the swap happened. On failure the old credentials stay in force.
    """
    credentials = validation.validate_credentials(service.list_exchange_of(app, name), credentials)
    service.refuse_stored_key(app, passphrase, credentials, except_name=name)
    with unlocked(app, passphrase) as (session, opened):
        row = find(session, name)
        status_before = row.status
        target = Target(
            row.id,
            row.name,
            row.exchange,
            row.market,
            endpoint_of(opened, row),  # the new key goes through the same (authenticated) endpoint
            credentials,
            row.key_version,
            simulated=simulator.is_simulated(row.endpoint, service.sim_url(app)),
            testnet=row.testnet,  # a rotated testnet key is tested on the testnet
        )
    report = asyncio.run(run_targets([target], timeout_ms))[0]
    name_public_ip(app, [report])
    if not report.ok:
        with app.store.session() as session:
            row = find(session, name)
            audit.record(
                session, "connection.rotation_refused", app.actor, row, status=report.status, code=report.code
            )
        return report, False
    # Swap only if the key tested against is still the one in force: of concurrent rotations one wins,
    # the others get ConflictError (409 in the API, exit 1 in the CLI) and change nothing.
    service.rotate_credentials(
        app, passphrase, target.connection_id, credentials, expected_version=target.key_version
    )
    record_reports(app, [target], [report], previous={target.connection_id: status_before})
    return report, True


def correct_tested(
    app: App, passphrase: Secret, name: str, fields: dict[str, Secret], timeout_ms: int = 30_000
) -> tuple[ConnectionReport, bool]:
    """Correct some of a connection's key fields in place (e.g. a mistyped passphrase): the given fields
    over the stored ones, tested like a rotation and swapped in only when the test passes."""
    if not fields:
        raise InputError(
            "hold no field to correct",
            'give e.g. {"password": "..."} or {"secret": "..."}',
            field="credentials",
        )
    validation.validate_credentials_fields(fields)
    with unlocked(app, passphrase) as (session, opened):
        merged = {**open_credentials(opened, find(session, name)), **fields}
    return rotate_tested(app, passphrase, name, merged, timeout_ms)


def add_tested(
    app: App,
    passphrase: Secret,
    name: str,
    exchange: str,
    credentials: dict[str, Secret],
    *,
    market: str = "spot",
    endpoint: str | None = None,
    test: bool = True,
    keep_untested: bool = False,
    timeout_ms: int = 30_000,
    testnet: bool = False,
) -> tuple[ConnectionView | None, ConnectionReport | None]:
    """Add a connection of a supported exchange, testing the key first unless `test` is false.

    A key that fails the test is not stored (the refusal is audited) unless `keep_untested`; then it is
    stored with the failed test's status. Returns (the connection or None, the test report or None).
    """
    name = validation.validate_name(name)
    exchange = validation.validate_supported_exchange(exchange)
    market = validation.validate_market(market)
    endpoint = validation.validate_endpoint_option(endpoint)
    service.validate_testnet(exchange, testnet)
    if service.awaiting_key(app, name, exchange):
        # The API key of a pair generated here (keygen): the private half is sealed already, never refused.
        view = service.add_connection(app, passphrase, name, exchange, credentials, market, endpoint)
        if not test:
            return view, None
        [report] = check_connections(app, passphrase, [view.id], timeout_ms)
        return service.show_view(app, view.id), report
    service.refuse_taken_name(app, name)
    credentials = validation.validate_credentials(exchange, credentials)
    if not test:
        view = service.add_connection(app, passphrase, name, exchange, credentials, market, endpoint, testnet)
        return view, None
    service.refuse_stored_key(app, passphrase, credentials, name=name)
    masked, userinfo = split_userinfo(endpoint) if endpoint else (None, None)
    route = AuthEndpoint(masked, userinfo) if masked and userinfo is not None else masked
    target = Target(
        "",
        name,
        exchange,
        market,
        route,
        credentials,
        simulated=simulator.is_simulated(masked, service.sim_url(app)),
        testnet=testnet,
    )
    report = asyncio.run(run_targets([target], timeout_ms))[0]
    name_public_ip(app, [report])
    if not report.ok and not keep_untested:
        with app.store.session() as session:
            audit.record(
                session,
                "connection.add_refused",
                app.actor,
                None,
                name=name,
                exchange=exchange,
                status=report.status,
                code=report.code,
            )
        return None, report
    view = service.add_connection(app, passphrase, name, exchange, credentials, market, endpoint, testnet)
    stored = Target(view.id, view.name, exchange, market, route, credentials, testnet=testnet)
    record_reports(app, [stored], [report], previous={view.id: "untested"})
    return service.show_view(app, view.id), report
