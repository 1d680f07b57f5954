"""The connection verbs: add, list, show, rotate, remove."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradewarden.adapters import audit
from tradewarden.adapters.exchanges import registry
from tradewarden.adapters.exchanges.endpoint import ENDPOINT_USERINFO_FIELD, split_userinfo
from tradewarden.adapters.store.models import Connection, SealedCredential, name_key, utcnow
from tradewarden.adapters.vault import vault
from tradewarden.adapters.vault.crypto import DecryptionError
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services import simulator
from tradewarden.services.app import App
from tradewarden.services.connections import validation
from tradewarden.services.errors import ConflictError, InputError, NotFoundError
from tradewarden.services.vault_access import unlocked


@dataclass(frozen=True)
class ConnectionView:
    """What may be shown of a connection: never a secret, the API key only masked."""

    id: str
    name: str
    exchange: str
    market: str
    endpoint: str | None
    key_type: str
    api_key: str
    credential_fields: list[str]
    status: str
    status_checked_at: datetime | None
    created_at: datetime
    updated_at: datetime
    simulated: bool = False  # its endpoint is the simulator `up` runs: its funds are not real
    testnet: bool = False  # the exchange's testnet/demo environment: its funds are not real either

    @classmethod
    def of(
        cls, row: Any, credential_fields: list[str] | None = None, sim_url: str | None = None
    ) -> ConnectionView:
        """The view of a stored connection: an ORM row, or a selected row with the same column names."""
        if credential_fields is None:
            credential_fields = [cred.field for cred in row.credentials]
        # The key's fields only: an endpoint's sealed userinfo shows as `***@` in `endpoint` instead.
        credential_fields = [f for f in credential_fields if f != ENDPOINT_USERINFO_FIELD]
        return cls(
            id=row.id,
            name=row.name,
            exchange=row.exchange,
            market=row.market,
            endpoint=row.endpoint,
            key_type=row.key_type,
            api_key=row.api_key_masked,
            credential_fields=sorted(credential_fields),
            status=row.status,
            status_checked_at=row.status_checked_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            simulated=simulator.is_simulated(row.endpoint, sim_url),
            testnet=bool(getattr(row, "testnet", False)),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes in ISO 8601)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def validate_testnet(exchange: str, testnet: bool) -> None:
    """InputError when a testnet connection is asked of an exchange whose testnet ccxt does not reach."""
    if not testnet:
        return
    info = registry.get_exchange(exchange)
    if info is None or info.testnet is None:
        have = ", ".join(sorted(e.id for e in registry.REGISTRY.values() if e.testnet))
        raise InputError(
            f"{exchange} has no testnet or demo environment TradeWarden can reach",
            f"leave out --testnet, or use one of: {have}",
            field="testnet",
        )


def find(session: Session, name: str) -> Connection:
    """The connection with this id, or whose name equals `name` once both are normalised (NFKC,
    case-folded: see models.name_key); NotFoundError otherwise."""
    row = session.get(Connection, name) if len(name) == 32 else None
    if row is None:
        row = session.scalars(select(Connection).where(Connection.name_key == name_key(name))).first()
    if row is None:
        raise NotFoundError(
            f"no connection named {name!r}", "see: tradewarden connections list", field="name"
        )
    return row


def _seal_all(
    session: Session, opened: vault.UnlockedVault, row: Connection, creds: dict[str, Secret]
) -> None:
    for field, value in sorted(creds.items()):
        row.credentials.append(opened.seal(row.id, field, value))
    session.flush()


def _split_endpoint(endpoint: str | None) -> tuple[str | None, Secret | None]:
    """(the endpoint as stored and shown, `user:password` masked; the userinfo to seal, if any)."""
    if endpoint is None:
        return None, None
    return split_userinfo(endpoint)


def _seal_endpoint_userinfo(
    session: Session, opened: vault.UnlockedVault | None, row: Connection, userinfo: Secret | None
) -> None:
    # An endpoint's credentials are sealed like a secret (bound to this connection and field) and
    # re-inserted only by the client factory; the stored endpoint text shows them as ***.
    for cred in [c for c in row.credentials if c.field == ENDPOINT_USERINFO_FIELD]:
        row.credentials.remove(cred)
    session.flush()
    if userinfo is not None:
        assert opened is not None
        row.credentials.append(opened.seal(row.id, ENDPOINT_USERINFO_FIELD, userinfo))
        session.flush()


AWAITING_API_KEY = "awaiting_api_key"
KEY_HASH_PURPOSE = "api-key"


def sim_url(app: App) -> str | None:
    """The simulator `up` records in the home (None when it never ran one)."""
    return simulator.recorded_url(app.settings.home_dir)


def _key_hash(opened: vault.UnlockedVault, credentials: dict[str, Secret]) -> str:
    return opened.fingerprint(KEY_HASH_PURPOSE, credentials["apiKey"])


def _refuse_stored_key(
    session: Session,
    opened: vault.UnlockedVault,
    key_hash: str,
    except_id: str | None = None,
    name: str | None = None,
) -> None:
    """ConflictError naming the connection that already holds this API key (compared by keyed hash); when
    that connection has the `name` being added, the name's conflict (a parallel create of the same
    connection that committed between the name check and this one: the name is what the user chose)."""
    # Rows from before the hash column get theirs now: their API key is opened only to hash it.
    for row in session.scalars(select(Connection).where(Connection.api_key_hash.is_(None))):
        sealed = [c for c in row.credentials if c.field == "apiKey"]
        if sealed:
            with suppress(DecryptionError):  # a row that does not decrypt is reported by its own test
                row.api_key_hash = opened.fingerprint(KEY_HASH_PURPOSE, opened.open(sealed[0]))
    session.flush()
    query = select(Connection.name).where(Connection.api_key_hash == key_hash)
    if except_id is not None:
        query = query.where(Connection.id != except_id)
    other = session.scalars(query).first()
    if other is not None and name is not None and name_key(other) == name_key(name):
        raise _duplicate(other)
    if other is not None:
        raise ConflictError(
            f"hold an API key already stored as the connection {other!r}",
            f"use {other!r}, or remove it first (tradewarden connections remove {other!r})",
            field="credentials",
        )


def generate_ed25519_key(
    app: App, passphrase: Secret, name: str, exchange: str, market: str = "spot", endpoint: str | None = None
) -> tuple[ConnectionView, str]:
    """Create a connection holding a new Ed25519 private key (sealed); return it and the public key PEM.

    The private half never leaves the vault; `add` with the exchange's API key completes the connection.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    name = validation.validate_name(name)
    exchange = validation.validate_exchange(exchange)
    market = validation.validate_market(market)
    endpoint, endpoint_userinfo = _split_endpoint(validation.validate_endpoint_option(endpoint))
    private_key = Ed25519PrivateKey.generate()
    private_pem = Secret(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    )
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with unlocked(app, passphrase) as (session, opened):
        _refuse_duplicate(session, name)
        row = Connection(
            name=name,
            exchange=exchange,
            market=market,
            endpoint=endpoint,
            key_type="ed25519",
            api_key_masked="—",
            status=AWAITING_API_KEY,
        )
        _insert(session, row)
        _seal_all(session, opened, row, {"secret": private_pem})
        _seal_endpoint_userinfo(session, opened, row, endpoint_userinfo)
        audit.record(
            session, "connection.key_generated", app.actor, row, exchange=exchange, key_type="ed25519"
        )
        return ConnectionView.of(row), public_pem


def _complete_generated(
    app: App, passphrase: Secret, name: str, credentials: dict[str, Secret]
) -> ConnectionView:
    if set(credentials) != {"apiKey"}:
        raise InputError(
            "must hold only apiKey for a connection whose key was generated here",
            "give just the API key the exchange showed after you registered the public key",
            field="credentials",
        )
    validation.validate_credentials_fields(credentials)
    with unlocked(app, passphrase) as (session, opened):
        row = find(session, name)
        key_hash = _key_hash(opened, credentials)
        _refuse_stored_key(session, opened, key_hash, except_id=row.id)
        _seal_all(session, opened, row, credentials)
        row.api_key_hash = key_hash
        row.api_key_masked = validation.mask_api_key(credentials["apiKey"].reveal())
        row.status = "untested"
        row.updated_at = utcnow()
        audit.record(
            session,
            "connection.added",
            app.actor,
            row,
            exchange=row.exchange,
            market=row.market,
            fields=["apiKey", "secret"],
            key_type=row.key_type,
        )
        return ConnectionView.of(row)


def add_connection(
    app: App,
    passphrase: Secret,
    name: str,
    exchange: str,
    credentials: dict[str, Secret],
    market: str = "spot",
    endpoint: str | None = None,
    testnet: bool = False,
) -> ConnectionView:
    """Validate, then store a connection with its credentials sealed, in one transaction."""
    name = validation.validate_name(name)
    exchange = validation.validate_exchange(exchange)
    validate_testnet(exchange, testnet)
    market = validation.validate_market(market)
    endpoint, endpoint_userinfo = _split_endpoint(validation.validate_endpoint_option(endpoint))
    with app.store.session() as session:
        pending = session.scalars(select(Connection).where(Connection.name_key == name_key(name))).first()
        if pending is not None and pending.status == AWAITING_API_KEY and pending.exchange == exchange:
            return _complete_generated(app, passphrase, name, credentials)
        # Duplicate check before the (slow) unlock so a clash is reported at once.
        _refuse_duplicate(session, name)
    credentials = validation.validate_credentials(exchange, credentials)
    kind = validation.key_type(credentials)
    with unlocked(app, passphrase) as (session, opened):
        _refuse_duplicate(session, name)
        key_hash = _key_hash(opened, credentials)
        _refuse_stored_key(session, opened, key_hash, name=name)
        row = Connection(
            name=name,
            exchange=exchange,
            market=market,
            endpoint=endpoint,
            key_type=kind,
            api_key_masked=validation.mask_api_key(credentials["apiKey"].reveal()),
            api_key_hash=key_hash,
            status="untested",
            testnet=testnet,
        )
        _insert(session, row)
        _seal_all(session, opened, row, credentials)
        _seal_endpoint_userinfo(session, opened, row, endpoint_userinfo)
        audit.record(
            session,
            "connection.added",
            app.actor,
            row,
            exchange=exchange,
            market=market,
            fields=sorted(credentials),
        )
        return ConnectionView.of(row, sim_url=sim_url(app))


def refuse_stored_key(
    app: App,
    passphrase: Secret,
    credentials: dict[str, Secret],
    except_name: str | None = None,
    name: str | None = None,
) -> None:
    """ConflictError when this API key is already stored under another connection (before a test); a
    connection `name` being added reports the name's conflict when that is the holder."""
    with unlocked(app, passphrase) as (session, opened):
        except_id = find(session, except_name).id if except_name is not None else None
        _refuse_stored_key(session, opened, _key_hash(opened, credentials), except_id, name)


def awaiting_key(app: App, name: str, exchange: str) -> bool:
    """True when `name` is a key pair generated here (keygen) waiting for the exchange's API key."""
    with app.store.session() as session:
        row = session.scalars(select(Connection).where(Connection.name_key == name_key(name))).first()
        return row is not None and row.status == AWAITING_API_KEY and row.exchange == exchange


def show_view(app: App, name: str) -> ConnectionView:
    """One connection's view, not audited (for a result the caller just produced)."""
    with app.store.session() as session:
        return ConnectionView.of(find(session, name), sim_url=sim_url(app))


def refuse_taken_name(app: App, name: str) -> None:
    """ConflictError when a connection already has this name (ignoring case and Unicode form)."""
    with app.store.session() as session:
        _refuse_duplicate(session, name)


def _duplicate(name: str) -> ConflictError:
    return ConflictError(
        f"a connection named {name!r} already exists (names are compared ignoring case and Unicode form)",
        "choose another name, or rotate that connection's key with: tradewarden connections rotate",
        field="name",
    )


def _refuse_duplicate(session: Session, name: str) -> None:
    clash = session.scalars(select(Connection.name).where(Connection.name_key == name_key(name))).first()
    if clash is not None:
        raise _duplicate(clash)


def _insert(session: Session, row: Connection) -> None:
    # The check above is only a fast answer: between it and this insert a concurrent create may have
    # taken the name, and then the unique key refuses ours. That is the same conflict, not a failure.
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise _duplicate(row.name) from None


def list_connections(app: App) -> list[ConnectionView]:
    """Every connection, by name.

    Two plain column queries instead of ORM objects: loading every connection with its sealed rows (one
    query per connection, ciphertexts included) made GET /api/v1/connections cost ~30 ms at 100.
    """
    c = Connection
    with app.store.session() as session:
        fields: dict[str, list[str]] = {}
        for connection_id, field in session.execute(
            select(SealedCredential.connection_id, SealedCredential.field)
        ):
            fields.setdefault(connection_id, []).append(field)
        rows = session.execute(
            select(
                c.id,
                c.name,
                c.exchange,
                c.market,
                c.endpoint,
                c.key_type,
                c.api_key_masked,
                c.status,
                c.status_checked_at,
                c.created_at,
                c.updated_at,
                c.testnet,
            ).order_by(c.name_key)
        )
        url = sim_url(app)
        return [ConnectionView.of(row, fields.get(row.id, []), url) for row in rows]


def list_exchange_of(app: App, name: str) -> str:
    """The exchange id of the connection called `name`."""
    with app.store.session() as session:
        return find(session, name).exchange


def show_connection(app: App, name: str) -> ConnectionView:
    """One connection; the viewing is audited."""
    with app.store.session() as session:
        row = find(session, name)
        audit.record(session, "connection.shown", app.actor, row)
        return ConnectionView.of(row, sim_url=sim_url(app))


def rotate_credentials(
    app: App,
    passphrase: Secret,
    name: str,
    credentials: dict[str, Secret],
    expected_version: int | None = None,
) -> ConnectionView:
    """Replace a connection's credentials in one transaction (old sealed rows deleted, new ones sealed).

    With `expected_version` (the key version read when the new key's test began) the swap happens only
    if no other rotation got there first; otherwise ConflictError and nothing changes.
    """
    credentials = validation.validate_credentials(list_exchange_of(app, name), credentials)
    kind = validation.key_type(credentials)
    with unlocked(app, passphrase) as (session, opened):
        row = find(session, name)
        key_hash = _key_hash(opened, credentials)
        _refuse_stored_key(session, opened, key_hash, except_id=row.id)
        _bump_key_version(session, row, expected_version)
        for cred in [c for c in row.credentials if c.field != ENDPOINT_USERINFO_FIELD]:
            row.credentials.remove(cred)  # the endpoint's sealed userinfo is not part of the key
        session.flush()  # delete the old rows before the (connection, field) pairs are reused
        _seal_all(session, opened, row, credentials)
        row.key_type = kind
        row.api_key_hash = key_hash
        row.api_key_masked = validation.mask_api_key(credentials["apiKey"].reveal())
        row.status = "untested"
        row.status_checked_at = None
        row.updated_at = utcnow()
        audit.record(session, "connection.rotated", app.actor, row, fields=sorted(credentials))
        return ConnectionView.of(row)


def _bump_key_version(session: Session, row: Connection, expected: int | None) -> None:
    # Compare-and-swap in one UPDATE: it takes the row's write lock (PostgreSQL) or the database's
    # (SQLite), so of concurrent rotations exactly one sees its version and the rest see zero rows.
    version = row.key_version if expected is None else expected
    result = session.execute(
        update(Connection)
        .where(Connection.id == row.id, Connection.key_version == version)
        .values(key_version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            f"the key of {row.name!r} changed while this rotation was under way (another rotation "
            "won); nothing was changed",
            "check which key is in force with: tradewarden connections show, then rotate again if needed",
            field="name",
        )
    session.refresh(row)


def set_endpoint(
    app: App, name: str, endpoint: str | None, passphrase: Secret | None = None
) -> ConnectionView:
    """Change where a connection's requests go (simulator, proxy, or the exchange itself).

    An endpoint with `user:password` needs the passphrase: its credentials are sealed in the vault.
    """
    endpoint, userinfo = _split_endpoint(validation.validate_endpoint_option(endpoint))
    if userinfo is not None and passphrase is None:
        raise InputError(
            "holds credentials, which are sealed in the vault",
            "give the vault passphrase to change it",
            field="endpoint",
        )
    with unlocked(app, passphrase) if passphrase is not None else _no_vault(app) as (session, opened):
        row = find(session, name)
        previous = row.endpoint
        if previous != endpoint:  # the key was tested somewhere else: it must be tested here
            row.status, row.status_checked_at = "untested", None
        row.endpoint = endpoint
        _seal_endpoint_userinfo(session, opened, row, userinfo)
        row.updated_at = utcnow()
        audit.record(
            session, "connection.endpoint_changed", app.actor, row, previous=previous, endpoint=endpoint
        )
        return ConnectionView.of(row)


def edit_connection(
    app: App,
    name: str,
    *,
    new_name: str | None = None,
    market: str | None = None,
    endpoint: str | None = None,
    clear_endpoint: bool = False,
    passphrase: Secret | None = None,
) -> ConnectionView:
    """Rename a connection, change its market or endpoint (or go back to the exchange itself).

    Validates everything before changing anything; one audit event names every field that changed.
    A new market or endpoint makes the connection untested (the key must be tested where it now goes).
    """
    if new_name is None and market is None and endpoint is None and not clear_endpoint:
        raise InputError(
            "nothing to change",
            "give --name, --market, --endpoint or --no-endpoint (keys: connections edit NAME --credentials)",
            field="name",
        )
    new_name = validation.validate_name(new_name) if new_name is not None else None
    market = validation.validate_market(market) if market is not None else None
    if endpoint is not None or clear_endpoint:
        set_endpoint(app, name, None if clear_endpoint else endpoint, passphrase)
    with app.store.session() as session:
        row = find(session, name)
        changed: dict[str, Any] = {}
        if new_name is not None and new_name != row.name:
            if name_key(new_name) != row.name_key:
                _refuse_duplicate(session, new_name)
            changed["name"] = {"previous": row.name, "now": new_name}
            row.name = new_name
        if market is not None and market != row.market:
            changed["market"] = {"previous": row.market, "now": market}
            row.market = market
        if market is not None and "market" in changed:
            row.status, row.status_checked_at = "untested", None
        if changed:
            row.updated_at = utcnow()
            try:
                session.flush()
            except IntegrityError:
                raise _duplicate(new_name or row.name) from None
            audit.record(session, "connection.edited", app.actor, row, changes=changed)
        return ConnectionView.of(row, sim_url=sim_url(app))


@contextmanager
def _no_vault(app: App) -> Iterator[tuple[Session, None]]:
    with app.store.session() as session:
        yield session, None


def remove_connection(app: App, name: str) -> ConnectionView:
    """Delete a connection and crypto-shred its sealed credentials; the removal is audited."""
    with app.store.session() as session:
        row = find(session, name)
        view = ConnectionView.of(row)
        audit.record(
            session,
            "connection.removed",
            app.actor,
            row,
            exchange=row.exchange,
            shredded_fields=sorted(cred.field for cred in row.credentials),
        )
        session.delete(row)
    _checkpoint(app)
    return view


def _checkpoint(app: App) -> None:
    # With WAL, deleted pages linger in the -wal file until a checkpoint copies them home.
    if app.store.engine.dialect.name == "sqlite":
        with app.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
