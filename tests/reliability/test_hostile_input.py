"""Issue 17, hostile input: a table of bad inputs across the API, the CLI, credentials files and candle
files. Each must get a clear refusal (4xx with the API's error shape; a non-zero exit that is not 70 and
an `Error:` line without a traceback), never a 5xx, and change nothing (row counts of every table but the
audit log, which records refusals on purpose). The CLI's `connections add` table of
tests/integration/test_bad_input.py runs here too (reused, counted), and concurrent creates of one name
must give exactly one connection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import ApiServer, running_server
from tests.integration.simtools import SimAdmin
from tests.integration.test_bad_input import CASES as ADD_CASES
from tests.integration.test_bad_input import _creds
from tests.reliability.counters import Counters
from tests.reliability.env import fund
from tests.reliability.leaks import Evidence, scan
from tradewarden.sim import ThreadedSim

CATEGORY = "hostile input"
TABLES = ("vault_header", "connections", "sealed_credentials", "connection_checks", "api_tokens", "orders",
          "fills", "paper_balances", "paper_positions")  # fmt: skip
INJECT = "x'); DROP TABLE connections; --"
NESTED = "[" * 5000 + "]" * 5000
BASE = "/api/v1/connections"


@dataclass(frozen=True)
class Case:
    """One hostile input: where it goes and how it is sent."""

    name: str
    surface: str  # api | cli | credentials file | candle file
    send: Callable[[Any], tuple[int, str]]  # -> (HTTP status or exit code, what came back)


def _api(method: str, path: str, **kw: Any) -> Callable[[Any], tuple[int, str]]:
    def send(rig: Rig) -> tuple[int, str]:
        answer = rig.admin.request(method, path, **kw)
        return answer.status_code, answer.text

    return send


def _cli(*args: str, stdin: bytes | None = None) -> Callable[[Any], tuple[int, str]]:
    def send(rig: Rig) -> tuple[int, str]:
        result = rig.cli(*[a.replace("{tmp}", str(rig.tmp)) for a in args], stdin=stdin)
        return result.code, result.stdout + result.stderr

    return send


def _order(**fields: Any) -> Callable[[Any], tuple[int, str]]:
    body = {"pair": "BTC/USDT", "side": "buy", "amount": "0.001", "paper": True, **fields}
    return _api("POST", f"{BASE}/Main/orders", json=body)


def _add(**fields: Any) -> Callable[[Any], tuple[int, str]]:
    body = {"name": "New", "exchange": "binance", "credentials": {"apiKey": "k" * 16, "secret": "s" * 24},
            "test": False, **fields}  # fmt: skip
    return _api("POST", BASE, json=body)


def _raw(body: bytes, content_type: str = "application/json") -> Callable[[Any], tuple[int, str]]:
    return _api("POST", BASE, content=body, headers={"Content-Type": content_type})


def _file(name: str, content: bytes, *args: str) -> Callable[[Any], tuple[int, str]]:
    """Write `content` to tmp/name, then run the CLI with `args` ({file} is its path)."""

    def send(rig: Rig) -> tuple[int, str]:
        path = rig.tmp / name
        path.write_bytes(content)
        result = rig.cli(*[a.replace("{file}", str(path)) for a in args])
        return result.code, result.stdout + result.stderr

    return send


def _creds_file(content: bytes) -> Callable[[Any], tuple[int, str]]:
    return _file("creds.json", content, "connections", "rotate", "Main", "-c", "{file}")


def _candles(content: bytes, *extra: str) -> Callable[[Any], tuple[int, str]]:
    return _file("candles.csv", content, "data", "import", "{file}", "--exchange", "binance", "--pair",
                 "BTC/USDT", "--timeframe", "1d", *extra)  # fmt: skip


GOOD_ROW = b"timestamp,open,high,low,close,volume\n1577836800000,7195.24,7255,7175.15,7200.85,16792.3\n"
CASES: list[Case] = [
    # API: names, types, sizes, nesting, unicode
    Case("api: injection in exchange id", "api", _add(exchange=INJECT)),
    Case("api: injection in connection path", "api", _api("GET", f"{BASE}/{INJECT}")),
    Case("api: NUL and BEL in name", "api", _add(name="bad\x00\x07name")),
    Case("api: 10,000-character name", "api", _add(name="N" * 10_000)),
    Case("api: name only whitespace", "api", _add(name=" \t ")),
    Case("api: secret is a number", "api", _add(credentials={"apiKey": "k" * 16, "secret": 12345678901})),
    Case("api: secret is an object", "api", _add(credentials={"apiKey": "k" * 16, "secret": {"$ne": ""}})),
    Case(
        "api: unknown credential field",
        "api",
        _add(credentials={"apiKey": "k" * 16, "secret": "s" * 24, "privateKey": "x" * 20}),
    ),
    Case("api: credentials missing", "api", _add(credentials=None)),
    Case("api: endpoint file://", "api", _add(endpoint="file:///etc/passwd")),
    Case("api: endpoint javascript:", "api", _add(endpoint="javascript:alert(1)")),
    Case("api: market not spot/futures", "api", _add(market="options; rm -rf /")),
    Case("api: deeply nested JSON", "api", _raw(NESTED.encode())),
    Case("api: 3 MB body", "api", _raw(json.dumps({"name": "x" * 3_000_000}).encode())),
    Case("api: body not JSON", "api", _raw(b"name=x&exchange=binance")),
    Case("api: JSON array body", "api", _raw(b'["name", "exchange"]')),
    Case("api: invalid UTF-8 body", "api", _raw(b'{"name": "\xff\xfe\xfd"}')),
    Case("api: body as text/plain", "api", _raw(b"{}", "text/plain")),
    Case("api: path traversal in name", "api", _api("GET", f"{BASE}/..%2F..%2F..%2Fetc%2Fpasswd")),
    Case("api: NUL in path", "api", _api("GET", f"{BASE}/a%00b")),
    Case("api: RTL override in path", "api", _api("DELETE", f"{BASE}/%E2%80%AEniaM")),
    # API: orders with absurd amounts and wrong types
    Case("api: negative amount", "api", _order(amount="-1")),
    Case("api: zero amount", "api", _order(amount="0")),
    Case("api: NaN amount", "api", _order(amount="NaN")),
    Case("api: Infinity amount", "api", _order(amount="Infinity")),
    Case("api: 1e309 amount", "api", _order(amount="1e309")),
    Case("api: absurd amount 1e30", "api", _order(amount="1" + "0" * 30)),
    Case("api: amount is a list", "api", _order(amount=[1])),
    Case("api: amount is an object", "api", _order(amount={"$gt": 0})),
    Case("api: negative price", "api", _order(type="limit", price="-5")),
    Case("api: side steal", "api", _order(side="steal")),
    Case("api: type stop", "api", _order(type="stop")),
    Case("api: injection in pair", "api", _order(pair=INJECT)),
    Case("api: traversal in pair", "api", _order(pair="../../etc/passwd")),
    Case(
        "api: order on unknown connection",
        "api",
        _api("POST", f"{BASE}/{INJECT}/orders", json={"pair": "BTC/USDT", "side": "buy", "amount": "1"}),
    ),
    Case("api: token scope root", "api", _api("POST", "/api/v1/tokens", json={"name": "t", "scope": "root"})),
    Case("api: token name control chars", "api", _api("POST", "/api/v1/tokens", json={"name": "\x1b[31m"})),
    Case("api: audit page_size -1", "api", _api("GET", "/api/v1/audit?page_size=-1")),
    Case("api: audit page_size 10^12", "api", _api("GET", "/api/v1/audit?page_size=1000000000000")),
    Case("api: audit since not a date", "api", _api("GET", "/api/v1/audit?since=yesterday'--")),
    # CLI: orders
    Case("cli: negative amount", "cli", _cli("trade", "buy", "Main", "BTC/USDT", "-1", "--paper")),
    Case("cli: amount not a number", "cli", _cli("trade", "buy", "Main", "BTC/USDT", "lots", "--paper")),
    Case("cli: amount 1e999", "cli", _cli("trade", "buy", "Main", "BTC/USDT", "1e999", "--paper")),
    Case("cli: amount NaN", "cli", _cli("trade", "buy", "Main", "BTC/USDT", "NaN", "--paper")),
    Case(
        "cli: price -1", "cli", _cli("trade", "buy", "Main", "BTC/USDT", "0.001", "--price", "-1", "--paper")
    ),
    Case("cli: type stop", "cli", _cli("trade", "buy", "Main", "BTC/USDT", "0.001", "--type", "stop")),
    Case("cli: injection in pair", "cli", _cli("trade", "buy", "Main", INJECT, "0.001", "--paper")),
    Case("cli: injection in connection", "cli", _cli("trade", "buy", INJECT, "BTC/USDT", "0.001")),
    Case("cli: ANSI escape in name", "cli", _cli("connections", "show", "\x1b]0;pwned\x07")),
    Case("cli: token scope root", "cli", _cli("tokens", "create", "t", "--scope", "root")),
    # credentials files
    Case(
        "creds: path traversal to /etc/shadow",
        "credentials file",
        _cli("connections", "rotate", "Main", "-c", "{tmp}/../../../../../../etc/shadow"),
    ),
    Case("creds: /dev/zero", "credentials file", _cli("connections", "rotate", "Main", "-c", "/dev/zero")),
    Case(
        "creds: /proc/self/environ",
        "credentials file",
        _cli("connections", "rotate", "Main", "-c", "/proc/self/environ"),
    ),
    Case("creds: a directory", "credentials file", _cli("connections", "rotate", "Main", "-c", "{tmp}")),
    Case("creds: deeply nested", "credentials file", _creds_file(b'{"apiKey": ' + NESTED.encode() + b"}")),
    Case("creds: NUL bytes", "credentials file", _creds_file(b'{"apiKey": "ab\x00cd", "secret": "x"}')),
    Case("creds: UTF-16", "credentials file", _creds_file('{"apiKey": "k", "secret": "s"}'.encode("utf-16"))),
    Case("creds: 2 MB", "credentials file", _creds_file(_creds(secret="s" * 2_000_000))),
    Case(
        "creds: duplicate keys",
        "credentials file",
        _creds_file(b'{"apiKey": "AKgood0123456789", "secret": "a", "secret": "good-secret-0123456789x"}'),
    ),
    # candle files
    Case(
        "candles: traversal path",
        "candle file",
        _cli("data", "import", "{tmp}/../../../../etc/passwd", "--exchange", "binance", "--pair", "BTC/USDT"),
    ),
    Case("candles: binary garbage", "candle file", _candles(bytes(range(256)) * 64)),
    Case("candles: empty file", "candle file", _candles(b"")),
    Case("candles: header only", "candle file", _candles(b"timestamp,open,high,low,close,volume\n")),
    Case("candles: negative prices", "candle file", _candles(GOOD_ROW + b"1577923200000,-1,-1,-2,-1,5\n")),
    Case("candles: NaN and inf", "candle file", _candles(GOOD_ROW + b"1577923200000,nan,inf,-inf,1,1\n")),
    Case(
        "candles: injection in a cell",
        "candle file",
        _candles(GOOD_ROW + f"1577923200000,{INJECT},1,1,1,1\n".encode()),
    ),
    Case("candles: high below low", "candle file", _candles(GOOD_ROW + b"1577923200000,10,5,20,10,1\n")),
    Case(
        "candles: absurd timestamp", "candle file", _candles(GOOD_ROW + b"99999999999999999999,1,1,1,1,1\n")
    ),
    Case("candles: injection in pair option", "candle file", _candles(GOOD_ROW, "--pair", INJECT)),
]


@dataclass
class Rig:
    """The server, the CLI on its home, the API client, a scratch dir."""

    server: ApiServer
    cli: Cli
    admin: httpx.Client
    tmp: Path


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    root = Path(tmp_path_factory.mktemp("hostile"))
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1721).start()
    admin_sim = SimAdmin(sim.url)
    admin_sim.call("POST", "/_sim/market", {"venue": "binance", "symbol": "BTC/USDT", "price": 50000})
    try:
        with running_server(root / "twhome") as server:
            key = admin_sim.key("binance", ["read", "spot_trade"], ["127.0.0.1"])
            fund(admin_sim, key["apiKey"])
            creds = {f: key[f] for f in ("apiKey", "secret")}
            body = {
                "name": "Main",
                "exchange": "binance",
                "endpoint": sim.url,
                "credentials": creds,
                "test": True,
            }
            assert server.client("admin").post(BASE, json=body).status_code == 201
            import os

            env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWARDEN_")}
            env.update(TRADEWARDEN_HOME=str(server.home), TRADEWARDEN_PASSPHRASE=PASSPHRASE, COLUMNS="200",
                       TERM="dumb", TRADEWARDEN_PUBLIC_IP_LOOKUP="off", TRADEWARDEN_KDF_TIME_COST="2",
                       TRADEWARDEN_KDF_MEMORY_KIB=str(19 * 1024))  # fmt: skip
            (root / "scratch").mkdir()
            yield Rig(server, Cli(home=server.home, env=env), server.client("admin"), root / "scratch")
    finally:
        sim.stop()


def _counts(rig: Rig) -> dict[str, int]:
    with rig.server.app.store.engine.connect() as conn:
        return {t: int(conn.execute(text(f"select count(*) from {t}")).scalar_one()) for t in TABLES}


def _judge(case_name: str, surface: str, status: int, said: str, rig: Rig, before: dict[str, int],
           reliability: Counters) -> None:  # fmt: skip
    reliability.count(CATEGORY, "cases")
    reliability.count(
        CATEGORY, "http_5xx", int(surface == "api" and status >= 500), why=f"{case_name}: {said[:200]}"
    )
    leaked = scan(_evidence(said), [PASSPHRASE])
    reliability.count(CATEGORY, "secrets_leaked", len(leaked), why=case_name)
    assert leaked == [], leaked
    if surface == "api":
        assert 400 <= status < 500, (status, said[:500])
        error = json.loads(said)["error"]
        assert error["message"] and error["code"], error
    else:
        assert status not in (0, 70), (status, said[:500])
        assert any(w in said for w in ("Error", "Refused", "refused", "failed", "Usage")), said[:500]
        assert "Traceback" not in said, said[:2000]
    assert _counts(rig) == before, case_name


def _evidence(said: str) -> Evidence:
    evidence = Evidence()
    evidence.add("answer", said)
    return evidence


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_refused_and_changes_nothing(case: Case, rig: Rig, reliability: Counters) -> None:
    before = _counts(rig)
    status, said = case.send(rig)
    _judge(case.name, case.surface, status, said, rig, before, reliability)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("argv", "stdin", "words"), [c[1:] for c in ADD_CASES], ids=[c[0] for c in ADD_CASES]
)
def test_connections_add_table_reused(argv: list[str], stdin: bytes | None, words: list[str], rig: Rig,
                                      reliability: Counters) -> None:  # fmt: skip
    argv = ["Main" if a == "existing" else ("MAIN" if a == "EXISTING" else a) for a in argv]
    before = _counts(rig)
    result = rig.cli("connections", "add", "--no-test", *argv, stdin=stdin)
    _judge(
        f"cli add: {argv[:1]}", "cli", result.code, result.stdout + result.stderr, rig, before, reliability
    )
    for word in words:
        assert word.lower() in result.stderr.lower().replace("main", "existing"), (word, result.stderr)


def test_concurrent_creates_of_one_name(rig: Rig, reliability: Counters) -> None:
    body = {"name": "Racer", "exchange": "binance", "test": False,
            "credentials": {"apiKey": "AKgood0123456789", "secret": "good-secret-0123456789"}}  # fmt: skip
    statuses: list[int] = []

    def create() -> None:
        auth = {"Authorization": f"Bearer {rig.server.tokens['admin']}"}
        with httpx.Client(base_url=rig.server.url, trust_env=False, timeout=60, headers=auth) as client:
            statuses.append(client.post(BASE, json=body).status_code)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    reliability.count(CATEGORY, "cases", len(statuses))
    reliability.count(
        CATEGORY, "http_5xx", sum(1 for s in statuses if s >= 500), why=f"concurrent creates {statuses}"
    )
    with rig.server.app.store.engine.connect() as conn:
        rows = conn.execute(text("select count(*) from connections where name = 'Racer'")).scalar_one()
    assert sorted(statuses) == [201] + [409] * 7, statuses
    assert rows == 1
    assert rig.admin.delete(f"{BASE}/Racer").status_code in (200, 204)


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(CASES) + len(ADD_CASES) + 1 >= 60
