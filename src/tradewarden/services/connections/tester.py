"""The connection test: server time → signed read → key permissions → IP restriction → market access.

It runs over already-built ccxt clients (the caller opens the vault), makes at most five upstream
requests, times each step, and ends in one status from DESIGN.md with a message and a remedy.

It fails closed: on an exchange with a key-permission endpoint, a permission read that fails or does not
say whether the key can withdraw ends in `exchange_unavailable`, never `online`. Only exchanges with no
such endpoint pass with the `permissions_unknown` warning. Whatever an exchange answers, `run_test`
returns a report; it never raises.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewarden.adapters.exchanges import errors, permissions, probes, remedies
from tradewarden.adapters.exchanges.errors import Classified, Status
from tradewarden.adapters.exchanges.permissions import KeyPermissions
from tradewarden.adapters.exchanges.registry import ExchangeInfo, get_exchange
from tradewarden.adapters.exchanges.replies import UnreadableReply, whole_number
from tradewarden.adapters.exchanges.shared import Outcome, SharedClients
from tradewarden.logs import get_logger

log = get_logger(__name__)

# Past this every exchange refuses signed requests (Binance already at +1 s ahead, KuCoin at ±5 s).
MAX_CLOCK_SKEW_MS = 5_000
CLOCK_DRIFT_WARNING_MS = 1_000
EXPIRY_WARNING = timedelta(days=7)
# Failures of the signed read that the permission read may explain (a valid key lacking a permission).
EXPLICABLE = {"invalid_key", "no_trade_permission", "no_futures_permission"}


@dataclass
class Check:
    """One timed step of the test."""

    name: str
    ok: bool
    ms: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md check object."""
        return {"name": self.name, "ok": self.ok, "ms": round(self.ms, 1), "detail": self.detail}


@dataclass
class ConnectionReport:
    """The outcome: one status, warnings, permissions, the checks, and words for a person."""

    name: str
    exchange: str
    status: Status = "online"
    warnings: list[str] = field(default_factory=list)
    permissions: KeyPermissions = permissions.UNKNOWN
    checks: list[Check] = field(default_factory=list)
    message: str = ""
    remedy: str = ""
    code: str | None = None
    unverified: bool = False  # the exchange has a permission endpoint, but the permissions did not read

    @property
    def ok(self) -> bool:
        """True only when the connection may be used by bots."""
        return self.status == "online"

    def to_json(self) -> dict[str, Any]:
        """The `connections test --json` object of DESIGN.md."""
        perms = self.permissions.to_json()
        return {
            "name": self.name,
            "exchange": self.exchange,
            "ok": self.ok,
            "status": self.status,
            "warnings": list(self.warnings),
            "permissions": {
                k: perms[k] for k in ("read", "spot_trade", "futures_trade", "withdraw", "ip_restricted")
            },
            "checks": [check.to_json() for check in self.checks],
            "message": self.message,
            "remedy": self.remedy,
        }


@dataclass
class Clients:
    """The ccxt clients of one connection: the main one, and a futures one for market `both`."""

    exchange_id: str
    market: str
    main: Any
    main_ccxt_id: str
    futures: Any | None = None
    futures_ccxt_id: str | None = None
    endpoint: str | None = None
    main_options: dict[str, Any] = field(default_factory=dict)
    shared: SharedClients | None = None


class _Failed(Exception):
    def __init__(self, classified: Classified) -> None:
        super().__init__(classified.status)
        self.classified = classified


async def _step(
    report: ConnectionReport, name: str, clients: Clients, client: Any, call: Callable[[], Awaitable[Any]]
) -> Any:
    """Run one step, timing it; on failure record the classified cause and raise _Failed."""
    errors.install_response_capture(client)
    started = time.perf_counter()
    try:
        result = await call()
    except Exception as exc:
        http_status, body = errors.last_response(client)
        classified = errors.classify(clients.exchange_id, http_status, body, exc)
        report.checks.append(Check(name, False, (time.perf_counter() - started) * 1000, classified.detail))
        raise _Failed(classified) from None
    report.checks.append(Check(name, True, (time.perf_counter() - started) * 1000, ""))
    return result


async def _public_step(report: ConnectionReport, name: str, clients: Clients, call: probes.Call) -> Outcome:
    """A public call through the shared, single-flight clients (or the connection's own client)."""
    started = time.perf_counter()
    if clients.shared is not None:
        outcome = await clients.shared.call(
            clients.main_ccxt_id, clients.endpoint, call, clients.main_options
        )
    else:
        outcome = await SharedClients.run_on(clients.main, call)
    elapsed = (time.perf_counter() - started) * 1000
    if outcome.error is not None:
        classified = errors.classify(clients.exchange_id, outcome.http_status, outcome.body, outcome.error)
        report.checks.append(Check(name, False, elapsed, classified.detail))
        raise _Failed(classified)
    report.checks.append(Check(name, True, elapsed, ""))
    return outcome


def _detail(report: ConnectionReport, text: str) -> None:
    report.checks[-1].detail = text


async def _server_time(report: ConnectionReport, clients: Clients, probe: probes.Probes | None) -> None:
    if probe is None:
        before = time.time() * 1000
        server = await _step(report, "server_time", clients, clients.main, clients.main.fetch_time)
        server_ms = whole_number(server)
        local_ms = (before + time.time() * 1000) / 2  # the server read its clock about mid-flight
    else:
        outcome = await _public_step(report, "server_time", clients, probe.time)
        try:
            server_ms, local_ms = probe.server_ms(outcome.result), outcome.local_mid_ms
        except UnreadableReply as exc:
            report.checks[-1].ok = False
            _detail(report, exc.detail)
            raise _Failed(Classified("exchange_unavailable", None, None, exc.detail)) from None
    if server_ms is None:
        _detail(report, "the exchange did not report its time")
        return
    skew = server_ms - local_ms
    _detail(report, f"clock offset {skew:+.0f} ms")
    if abs(skew) >= MAX_CLOCK_SKEW_MS:
        report.checks[-1].ok = False
        raise _Failed(Classified("clock_skew", None, None, f"clock offset {skew / 1000:+.1f} s"))
    if abs(skew) >= CLOCK_DRIFT_WARNING_MS:
        report.warnings.append("clock_drift")


async def _signed_read(
    report: ConnectionReport, clients: Clients, probe: probes.Probes | None
) -> _Failed | None:
    call = (lambda: probe.balance(clients.main)) if probe else clients.main.fetch_balance
    try:
        await _step(report, "authenticated_read", clients, clients.main, call)
    except _Failed as failed:
        if failed.classified.status in EXPLICABLE:
            return failed  # the permission read may say which permission is missing
        raise
    _detail(report, "balances readable")
    return None


def _unverified(report: ConnectionReport, classified: Classified) -> _Failed:
    """Fail closed: the key_permissions check fails with its cause, the status is exchange_unavailable."""
    report.unverified = True
    report.checks[-1].ok = False
    _detail(report, classified.detail + "; the key's permissions could not be verified")
    return _Failed(replace(classified, status="exchange_unavailable", detail=report.checks[-1].detail))


async def _permissions(
    report: ConnectionReport, clients: Clients, pending: _Failed | None, verifiable: bool
) -> None:
    try:
        perms = await _step(
            report,
            "key_permissions",
            clients,
            clients.main,
            lambda: permissions.fetch_permissions(clients.exchange_id, clients.main),
        )
    except _Failed as failed:
        if pending is not None:
            raise pending from None
        if verifiable:
            raise _unverified(report, failed.classified) from None
        report.warnings.append("permissions_unknown")
        _detail(report, report.checks[-1].detail + "; permissions could not be read")
        report.checks[-1].ok = True  # no permission endpoint to fail closed on: the warning says it
        return
    if verifiable and perms.withdraw is None:
        if pending is not None:
            raise pending
        unknown = Classified(
            "exchange_unavailable", None, None, "the reply did not say if the key can withdraw"
        )
        raise _unverified(report, unknown)
    report.permissions = perms
    if perms == permissions.UNKNOWN:
        report.warnings.append("permissions_unknown")
        _detail(report, "this exchange does not report key permissions")
    else:
        granted = [k for k in ("read", "spot_trade", "futures_trade", "withdraw") if getattr(perms, k)]
        _detail(report, "granted: " + (", ".join(granted) or "nothing"))
    if pending is not None:
        # The key is valid (its permissions were readable): the refused read may be a missing permission.
        raise _Failed(
            errors.refine_with_permissions(
                clients.exchange_id, pending.classified, perms, needs_futures=clients.market == "futures"
            )
        )


def _ip_restriction(report: ConnectionReport) -> None:
    restricted = report.permissions.ip_restricted
    if restricted is True:
        whitelist = ", ".join(report.permissions.ip_whitelist or ()) or "set"
        detail = f"whitelist: {whitelist}"
    elif restricted is False:
        report.warnings.append("ip_unrestricted")
        detail = "the key accepts requests from any IP address"
    else:
        detail = "the exchange does not say"
    report.checks.append(Check("ip_restriction", restricted is not False, 0.0, detail))


async def _market_access(report: ConnectionReport, clients: Clients) -> None:
    if clients.market in ("spot", "both"):
        spot_probe = probes.probes_for(clients.main_ccxt_id)
        if spot_probe is None:
            report.checks.append(Check("spot_market", True, 0.0, "no direct market check for this exchange"))
        else:
            await _public_step(report, "spot_market", clients, spot_probe.spot_market)
            _detail(report, "market data readable")
    if clients.market in ("futures", "both"):
        client = clients.futures if clients.futures is not None else clients.main
        ccxt_id = clients.futures_ccxt_id or clients.main_ccxt_id
        probe = probes.probes_for(ccxt_id)
        if probe is None or probe.futures_account is None:
            report.checks.append(
                Check("futures_account", True, 0.0, "no direct futures check for this exchange")
            )
            return
        account = probe.futures_account
        try:
            await _step(report, "futures_account", clients, client, lambda: account(client))
        except _Failed as failed:
            # The key already read balances, so a refusal here is the futures permission, however coded.
            if failed.classified.status in EXPLICABLE:
                raise _Failed(replace(failed.classified, status="no_futures_permission")) from None
            raise
        _detail(report, "futures account readable")


def _final_status(report: ConnectionReport, market: str, now: datetime) -> Status:
    perms = report.permissions
    if perms.withdraw:
        return "withdraw_enabled"
    if perms.expires_at is not None:
        if perms.expires_at <= now:
            return "expired"
        if perms.expires_at - now <= EXPIRY_WARNING:
            report.warnings.append("expires_soon")
    if market in ("spot", "both") and perms.spot_trade is False:
        return "no_trade_permission"
    if market in ("futures", "both") and perms.futures_trade is False:
        return "no_futures_permission"
    return "online"


def has_permission_endpoint(info: ExchangeInfo | None, exchange_id: str) -> bool:
    """True when the test can read this exchange's key permissions (and so must, to pass)."""
    return info is not None and bool(permissions.PERMISSION_METHODS.get(exchange_id))


async def run_test(name: str, info: ExchangeInfo | None, clients: Clients) -> ConnectionReport:
    """Run the whole test over `clients`; never raises: exchange trouble, and any surprise, is reported."""
    report = ConnectionReport(name=name, exchange=clients.exchange_id)
    probe = probes.probes_for(clients.main_ccxt_id)
    verifiable = has_permission_endpoint(info, clients.exchange_id)
    try:
        await _server_time(report, clients, probe)
        pending = await _signed_read(report, clients, probe)
        await _permissions(report, clients, pending, verifiable)
        _ip_restriction(report)
        await _market_access(report, clients)
        report.status = _final_status(report, clients.market, datetime.now(UTC))
    except _Failed as failed:
        report.status = failed.classified.status
        report.code = failed.classified.code
    except Exception as exc:  # a reply nobody foresaw must not stop the other connections' tests
        log.warning("connection test failed unexpectedly", connection=name, error=type(exc).__name__)
        report.checks.append(Check("unexpected", False, 0.0, f"unexpected {type(exc).__name__}"))
        report.status = "exchange_unavailable"
    if info is None:
        if "permissions_unknown" not in report.warnings:
            report.warnings.append("permissions_unknown")
        report.message, report.remedy = remedies.explain_basic(clients.exchange_id, report.status)
    elif report.unverified and report.status == "exchange_unavailable":
        report.message, report.remedy = remedies.unverified(info)
    else:
        report.message, report.remedy = remedies.explain(info, report.status, report.warnings)
    return report


def failed_report(name: str, exchange: str, status: Status, detail: str) -> ConnectionReport:
    """A report for a connection whose test could not run at all (its key does not decrypt, ...)."""
    report = ConnectionReport(name=name, exchange=exchange, status=status)
    report.checks.append(Check("stored_key" if status == "integrity_error" else "setup", False, 0.0, detail))
    info = get_exchange(exchange) or remedies.basic_info(exchange)
    if status == "integrity_error":
        report.message, report.remedy = remedies.integrity(name, info)
    else:
        report.message, report.remedy = remedies.explain(info, status)
    return report
