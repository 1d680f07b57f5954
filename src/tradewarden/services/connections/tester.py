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
from tradewarden.adapters.exchanges.remedies import Explanation
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

# What a person calls each step (the CLI's table, the API's `label`); `name` stays the raw id.
CHECK_LABELS = {
    "server_time": "Clock",
    "authenticated_read": "Key and signature",
    "key_permissions": "Permissions",
    "ip_restriction": "IP restriction",
    "spot_market": "Market access",
    "futures_account": "Market access",
    "stored_key": "Stored key",
    "setup": "Setup",
    "unexpected": "Unexpected error",
}

# Every check detail, by code; the English text is the template filled with the params (see remedies.py
# for the same scheme on messages). "check.refused" carries the exchange's own reason as `reason`.
DETAIL_TEMPLATES = {
    "check.none": "",
    "check.refused": "{reason}",
    "check.clock_offset": "clock offset {offset_ms} ms",
    "check.clock_skew": "clock offset {offset_s} s",
    "check.clock_unknown": "the exchange did not report its time",
    "check.balances_readable": "balances readable",
    "check.granted": "granted: {permissions}",
    "check.granted_nothing": "granted: nothing",
    "check.withdraw_enabled": "withdrawals are enabled (granted: {permissions})",
    "check.no_spot_trade": "trading is not enabled (granted: {permissions})",
    "check.no_futures_trade": "futures trading is not enabled (granted: {permissions})",
    "check.expired": "the key expired at {expires_at}",
    "check.permissions_not_reported": "this exchange does not report key permissions",
    "check.permissions_unreadable": "{reason}; permissions could not be read",
    "check.permissions_unverified": "{reason}; the key's permissions could not be verified",
    "check.withdraw_unreported": "the reply did not say if the key can withdraw",
    "check.ip_whitelist": "whitelist: {ips}",
    "check.ip_whitelist_set": "whitelist: set",
    "check.ip_unrestricted": "the key accepts requests from any IP address",
    "check.ip_unknown": "the exchange does not say",
    "check.ip_refused": "the exchange refused this server's address {ip}: it is not on the key's whitelist",
    "check.ip_refused_unknown": "the exchange refused this server's address: not on the key's whitelist",
    "check.market_readable": "market data readable",
    "check.no_market_check": "no direct market check for this exchange",
    "check.futures_readable": "futures account readable",
    "check.no_futures_check": "no direct futures check for this exchange",
    "check.unexpected": "unexpected {error}",
    "check.failed": "{reason}",
}


@dataclass
class Check:
    """One timed step of the test; `detail` is the English text of `detail_code` with `detail_params`."""

    name: str
    ok: bool
    ms: float
    detail: str
    detail_code: str = "check.none"
    detail_params: dict[str, str] = field(default_factory=dict)

    def say(self, code: str, /, **params: str) -> None:
        """Set the detail from its code and params."""
        self.detail_code, self.detail_params = code, params
        self.detail = DETAIL_TEMPLATES[code].format(**params)

    @classmethod
    def of(cls, name: str, ok: bool, ms: float, code: str, /, **params: str) -> Check:
        """A check whose detail is given by code."""
        check = cls(name, ok, ms, "")
        check.say(code, **params)
        return check

    @property
    def label(self) -> str:
        """The step's name for a person."""
        return CHECK_LABELS.get(self.name, self.name.replace("_", " ").capitalize())

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md check object, with the label and the detail as code and params."""
        return {
            "name": self.name,
            "label": self.label,
            "ok": self.ok,
            "ms": round(self.ms, 1),
            "detail": self.detail,
            "detail_code": self.detail_code,
            "detail_params": dict(self.detail_params),
        }


def _refused(classified: Classified) -> dict[str, str]:
    return {"reason": classified.detail, "status": classified.status, "code": classified.code or ""}


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
    explanation: Explanation | None = None  # message and remedy as codes with params

    def explain(self, explanation: Explanation) -> None:
        """Set the message and remedy (text and codes) from `explanation`."""
        self.explanation = explanation
        self.message, self.remedy = explanation.pair()

    def _codes(self) -> dict[str, Any]:
        e = self.explanation
        if e is None:
            return {"message_code": None, "message_params": {}, "remedy_code": None, "remedy_params": {}}
        return {
            "message_code": e.message.code,
            "message_params": dict(e.message.params),
            "remedy_code": e.remedy.code,
            "remedy_params": dict(e.remedy.params),
            "notes": [
                {"warning": w, "code": p.code, "params": dict(p.params), "text": p.text} for w, p in e.notes
            ],
        }

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
            "code": self.code,
            "notes": [],
            **self._codes(),
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
        elapsed = (time.perf_counter() - started) * 1000
        report.checks.append(Check.of(name, False, elapsed, "check.refused", **_refused(classified)))
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
        report.checks.append(Check.of(name, False, elapsed, "check.refused", **_refused(classified)))
        raise _Failed(classified)
    report.checks.append(Check(name, True, elapsed, ""))
    return outcome


def _detail(report: ConnectionReport, code: str, /, **params: str) -> None:
    report.checks[-1].say(code, **params)


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
            _detail(report, "check.failed", reason=exc.detail)
            raise _Failed(Classified("exchange_unavailable", None, None, exc.detail)) from None
    if server_ms is None:
        _detail(report, "check.clock_unknown")
        return
    skew = server_ms - local_ms
    _detail(report, "check.clock_offset", offset_ms=f"{skew:+.0f}")
    if abs(skew) >= MAX_CLOCK_SKEW_MS:
        report.checks[-1].ok = False
        _detail(report, "check.clock_skew", offset_s=f"{skew / 1000:+.1f}")
        raise _Failed(Classified("clock_skew", None, None, report.checks[-1].detail))
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
    _detail(report, "check.balances_readable")
    return None


def _unverified(report: ConnectionReport, classified: Classified) -> _Failed:
    """Fail closed: the key_permissions check fails with its cause, the status is exchange_unavailable."""
    report.unverified = True
    report.checks[-1].ok = False
    _detail(report, "check.permissions_unverified", reason=classified.detail)
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
        _detail(report, "check.permissions_unreadable", reason=report.checks[-1].detail)
        report.checks[-1].ok = True  # no permission endpoint to fail closed on: the warning says it
        return
    if verifiable and perms.withdraw is None:
        if pending is not None:
            raise pending
        unknown = Classified(
            "exchange_unavailable", None, None, DETAIL_TEMPLATES["check.withdraw_unreported"]
        )
        raise _unverified(report, unknown)
    report.permissions = perms
    if perms == permissions.UNKNOWN:
        report.warnings.append("permissions_unknown")
        _detail(report, "check.permissions_not_reported")
    elif granted := _granted(perms):
        _detail(report, "check.granted", permissions=granted)
    else:
        _detail(report, "check.granted_nothing")
    if pending is not None:
        # The key is valid (its permissions were readable): the refused read may be a missing permission.
        raise _Failed(
            errors.refine_with_permissions(
                clients.exchange_id, pending.classified, perms, needs_futures=clients.market == "futures"
            )
        )


def _granted(perms: KeyPermissions) -> str:
    return ", ".join(k for k in ("read", "spot_trade", "futures_trade", "withdraw") if getattr(perms, k))


def _ip_restriction(report: ConnectionReport) -> None:
    restricted = report.permissions.ip_restricted
    check = Check("ip_restriction", restricted is not False, 0.0, "")
    if restricted is True:
        whitelist = ", ".join(report.permissions.ip_whitelist or ())
        if whitelist:
            check.say("check.ip_whitelist", ips=whitelist)
        else:
            check.say("check.ip_whitelist_set")
    elif restricted is False:
        report.warnings.append("ip_unrestricted")
        check.say("check.ip_unrestricted")
    else:
        check.say("check.ip_unknown")
    report.checks.append(check)


async def _market_access(report: ConnectionReport, clients: Clients) -> None:
    if clients.market in ("spot", "both"):
        spot_probe = probes.probes_for(clients.main_ccxt_id)
        if spot_probe is None:
            report.checks.append(Check.of("spot_market", True, 0.0, "check.no_market_check"))
        else:
            await _public_step(report, "spot_market", clients, spot_probe.spot_market)
            _detail(report, "check.market_readable")
    if clients.market in ("futures", "both"):
        client = clients.futures if clients.futures is not None else clients.main
        ccxt_id = clients.futures_ccxt_id or clients.main_ccxt_id
        probe = probes.probes_for(ccxt_id)
        if probe is None or probe.futures_account is None:
            report.checks.append(Check.of("futures_account", True, 0.0, "check.no_futures_check"))
            return
        account = probe.futures_account
        try:
            await _step(report, "futures_account", clients, client, lambda: account(client))
        except _Failed as failed:
            # The key already read balances, so a refusal here is the futures permission, however coded.
            if failed.classified.status in EXPLICABLE:
                raise _Failed(replace(failed.classified, status="no_futures_permission")) from None
            raise
        _detail(report, "check.futures_readable")


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


# The failing check of a status the permission read decided: that row must say why, never "passed".
_PERMISSION_CAUSES = {
    "withdraw_enabled": "check.withdraw_enabled",
    "no_trade_permission": "check.no_spot_trade",
    "no_futures_permission": "check.no_futures_trade",
}


def _blame(report: ConnectionReport) -> None:
    """Mark the check that caused the status as failed, with the exact cause as its detail."""
    status, perms = report.status, report.permissions
    row = next((c for c in report.checks if c.name == "key_permissions"), None)
    if status in _PERMISSION_CAUSES and row is not None and row.ok:
        row.ok = False
        row.say(_PERMISSION_CAUSES[status], permissions=_granted(perms) or "nothing")
    elif status == "expired" and row is not None and perms.expires_at is not None:
        row.ok = False
        row.say("check.expired", expires_at=perms.expires_at.isoformat(timespec="minutes"))
    elif status == "ip_not_allowed":
        ip_row = next((c for c in report.checks if c.name == "ip_restriction"), None)
        if ip_row is None:
            ip_row = Check("ip_restriction", False, 0.0, "")
            report.checks.append(ip_row)
        ip_row.ok = False
        ip_row.say("check.ip_refused_unknown")


def set_public_ip(report: ConnectionReport, info: ExchangeInfo | None, ip: str | None) -> None:
    """Name this server's public address (None: unknown) in an ip_not_allowed report's remedy and check."""
    if report.status != "ip_not_allowed" or not ip:
        return
    for check in report.checks:
        if check.name == "ip_restriction" and not check.ok:
            check.say("check.ip_refused", ip=ip)
    info = info or remedies.info_or_basic(report.exchange)
    report.explain(remedies.explanation(info, report.status, report.warnings, code=report.code, ip=ip))


def has_permission_endpoint(info: ExchangeInfo | None, exchange_id: str) -> bool:
    """True when the test can read this exchange's key permissions (and so must, to pass)."""
    return info is not None and bool(permissions.PERMISSION_METHODS.get(exchange_id))


async def run_test(
    name: str, info: ExchangeInfo | None, clients: Clients, simulated: bool = False
) -> ConnectionReport:
    """Run the whole test over `clients`; never raises: exchange trouble, and any surprise, is reported.

    `simulated`: the endpoint is the simulator `up` runs, so "unavailable" means the simulator is down.
    """
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
        report.checks.append(Check.of("unexpected", False, 0.0, "check.unexpected", error=type(exc).__name__))
        report.status = "exchange_unavailable"
    _blame(report)
    if info is None:
        if "permissions_unknown" not in report.warnings:
            report.warnings.append("permissions_unknown")
        basic = remedies.info_or_basic(clients.exchange_id)
        report.explain(remedies.explanation(basic, report.status, code=report.code))
    elif report.unverified and report.status == "exchange_unavailable":
        report.explain(remedies.unverified_explanation(info))
    elif report.status == "exchange_unavailable" and simulated and clients.endpoint:
        report.explain(remedies.simulator_down_explanation(info, clients.endpoint))
    else:
        report.explain(remedies.explanation(info, report.status, report.warnings, code=report.code))
    return report


def failed_report(name: str, exchange: str, status: Status, detail: str) -> ConnectionReport:
    """A report for a connection whose test could not run at all (its key does not decrypt, ...)."""
    report = ConnectionReport(name=name, exchange=exchange, status=status)
    step = "stored_key" if status == "integrity_error" else "setup"
    report.checks.append(Check.of(step, False, 0.0, "check.failed", reason=detail))
    info = get_exchange(exchange) or remedies.basic_info(exchange)
    if status == "integrity_error":
        report.explain(remedies.integrity_explanation(name, info))
    else:
        report.explain(remedies.explanation(info, status))
    return report
