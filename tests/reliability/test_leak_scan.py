"""Issue 17, leak scan: after a scenario that adds, tests, rotates and breaks connections, trades by hand
(paper and live) through the API and the CLI, and provokes errors and a crash, no 8-character piece of
any secret, the vault passphrase or an API token is anywhere: the data dir (SQLite file, WAL, SHM, logs),
the audit log, every API response and stream frame captured, /metrics, CLI output, crash logs and other
temporary files. The server also runs the bot runner: paper and live bots are made through the API and
the CLI, trade, pause and resume, and notifications go to a webhook receiver and a Telegram fake whose
delivered bodies and headers are scanned too (leak_bots.py); the webhook signing key and the Telegram
token join the secrets.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.conftest import PASSPHRASE, Cli
from tests.integration.api.conftest import ApiServer
from tests.integration.notifications.conftest import Receiver, receiver  # noqa: F401 - the fixture
from tests.integration.simtools import SimAdmin
from tests.reliability.counters import Counters
from tests.reliability.env import fund
from tests.reliability.leak_bots import bot_server, bot_steps, deliveries
from tests.reliability.leaks import Evidence, scan
from tradewarden.sim import ThreadedSim

CATEGORY = "leak scan"
PRICE = 50000


class StreamTap:
    """Every frame of /api/v1/stream (read token) from start to stop, in a thread of its own."""

    def __init__(self, server: ApiServer) -> None:
        self.url = "ws" + server.url.removeprefix("http") + "/api/v1/stream"
        self.token = server.tokens["read"]
        self.frames: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with connect(self.url, additional_headers=headers, proxy=None, open_timeout=20) as ws:
            while not self._stop.is_set():
                try:
                    frame = await asyncio.wait_for(ws.recv(), 0.2)
                except TimeoutError:
                    continue
                self.frames.append(frame if isinstance(frame, str) else frame.decode(errors="replace"))

    def __enter__(self) -> StreamTap:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def leak_sim() -> Iterator[ThreadedSim]:
    sim = ThreadedSim(host="127.0.0.1", port=0, seed=1720).start()
    admin = SimAdmin(sim.url)
    for venue in ("binance", "kucoin"):
        admin.call("POST", "/_sim/market", {"venue": venue, "symbol": "BTC/USDT", "price": PRICE})
    try:
        yield sim
    finally:
        sim.stop()


def _creds(key: dict[str, Any]) -> dict[str, str]:
    return {f: str(key[f]) for f in ("apiKey", "secret", "password") if key.get(f)}


def _key(admin: SimAdmin, venue: str) -> dict[str, Any]:
    key: dict[str, Any] = admin.key(venue, ["read", "spot_trade"], ["127.0.0.1"])
    fund(admin, key["apiKey"])
    return key


def _crash(cli: Cli, tmp: Path) -> subprocess.CompletedProcess[bytes]:
    """A CLI order that cannot write (RLIMIT_FSIZE): exit 1 and a crash log in `tmp`."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    return subprocess.run(
        [sys.executable, "-m", "tradewarden", "trade", "buy", "Ku Main", "BTC/USDT", "0.001", "--paper"],
        capture_output=True,
        env={**cli.env, "TMPDIR": str(tmp)},
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


def scenario(server: ApiServer, cli: Cli, sim: ThreadedSim, tmp: Path) -> tuple[list[str], list[str]]:
    """Run the scenario; (every secret used, what happened, for the report)."""
    admin = SimAdmin(sim.url)
    admin_api, trade_api, read_api = server.client("admin"), server.client("trade"), server.client("read")
    a, a2, b = _key(admin, "binance"), _key(admin, "binance"), _key(admin, "kucoin")
    wrong = {**_key(admin, "binance"), "secret": "Wr0ngSecretThatTheUserTyped-4455667788"}
    done: list[str] = []

    def api_add(name: str, venue: str, key: dict[str, Any]) -> int:
        body = {
            "name": name,
            "exchange": venue,
            "endpoint": sim.url,
            "credentials": _creds(key),
            "test": True,
        }
        return admin_api.post("/api/v1/connections", json=body).status_code

    done.append(f"API add Bin Main: {api_add('Bin Main', 'binance', a)}")
    added = cli("connections", "add", "Ku Main", "-e", "kucoin", "--endpoint", sim.url, "-c", "-",
                stdin=json.dumps(_creds(b)).encode(), subprocess_=True)  # fmt: skip
    done.append(f"CLI add Ku Main: {added.code}")
    done.append(f"API add with a wrong secret: {api_add('Bad Key', 'binance', wrong)}")
    bad_cli = cli("connections", "add", "Bad Key 2", "-e", "binance", "--endpoint", sim.url, "-c", "-",
                  stdin=json.dumps(_creds(wrong)).encode())  # fmt: skip
    done.append(f"CLI add with a wrong secret: {bad_cli.code}")
    rotated = admin_api.post("/api/v1/connections/Bin Main/rotate", json={"credentials": _creds(a2)})
    done.append(f"API rotate: {rotated.status_code}")
    done.append(f"API test: {admin_api.post('/api/v1/connections/Bin Main/test').status_code}")
    done.append(f"CLI test --all: {cli('connections', 'test', '--all', '--json').code}")
    base = "/api/v1/connections/Bin Main/orders"
    for paper in (False, True):
        market = {"pair": "BTC/USDT", "side": "buy", "amount": "0.001", "paper": paper}
        done.append(f"API order paper={paper}: {trade_api.post(base, json=market).status_code}")
        limit = {**market, "type": "limit", "price": str(PRICE * 0.8)}
        done.append(f"API limit paper={paper}: {trade_api.post(base, json=limit).status_code}")
        flag = ("--paper",) if paper else ()
        bought = cli("trade", "buy", "Ku Main", "BTC/USDT", "0.001", *flag, "--json")
        done.append(f"CLI order paper={paper}: {bought.code}")
    done.append(f"CLI orders: {cli('trade', 'orders', 'Ku Main', '--json').code}")
    admin.revoke(b["apiKey"])
    done.append(f"CLI test revoked: {cli('connections', 'test', 'Ku Main', '--json').code}")
    admin.venue("binance", down=True)
    done.append(f"API test venue down: {admin_api.post('/api/v1/connections/Bin Main/test').status_code}")
    down = trade_api.post(base, json=market)
    done.append(f"API order venue down: {down.status_code} {down.json()['error']['code']}")
    admin.venue("binance", down=False)
    wrong_pass = cli("connections", "test", "Bin Main", env={"TRADEWARDEN_PASSPHRASE": "Xq7v-Wr9n-Zt4p-Kp2m"})
    done.append(f"CLI wrong passphrase: {wrong_pass.code}")
    crashed = _crash(cli, tmp)
    cli.transcript += [crashed.stdout.decode(errors="replace"), crashed.stderr.decode(errors="replace")]
    done.append(f"CLI crash (file size limit): {crashed.returncode}")
    for path in ("/api/v1/connections", "/api/v1/connections/Bin Main", "/api/v1/audit?page_size=200",
                 "/api/v1/portfolio", "/metrics", "/api/v1/connections/Bin Main/history"):  # fmt: skip
        done.append(f"GET {path}: {read_api.get(path).status_code}")
    shown = [("connections", "show", "Bin Main"), ("connections", "list", "--json"),
             ("connections", "history", "Bin Main")]  # fmt: skip
    done.append(f"CLI show/list/history: {[(r.code, r.stderr[:200]) for r in (cli(*c) for c in shown)]!r}")
    secrets = [PASSPHRASE, "Xq7v-Wr9n-Zt4p-Kp2m", *server.tokens.values()]
    for key in (a, a2, b, wrong):
        secrets += [str(key["secret"]), str(key.get("password") or "")]
    return [s for s in secrets if s], done


def shown_codes(done: list[str]) -> list[tuple[int, str]]:
    """The (exit code, error) of the CLI show/list/history step."""
    import ast

    line = next(d for d in done if d.startswith("CLI show/list/history: "))
    codes: list[tuple[int, str]] = ast.literal_eval(line.removeprefix("CLI show/list/history: "))
    return codes


@pytest.mark.timeout(600)
def test_no_secret_anywhere_after_a_full_scenario(
    leak_sim: ThreadedSim,
    tmp_path: Path,
    cli: Cli,
    reliability: Counters,
    receiver: Receiver,  # noqa: F811
) -> None:
    started = time.time()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    evidence = Evidence()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    with bot_server(tmp_path / "twhome") as server:
        cli.home = server.home
        cli.env["TRADEWARDEN_HOME"] = str(server.home)
        with StreamTap(server) as tap:
            secrets, done = scenario(server, cli, leak_sim, tmp)
            more, bot_done = bot_steps(server, cli, SimAdmin(leak_sim.url), receiver, inputs, PRICE)
            secrets, done = secrets + more, done + bot_done
            time.sleep(1.0)  # the audit feed polls every 0.5 s: the last events reach the stream
        evidence.add_tree(server.home)  # the database's WAL and SHM as the running server has them
        evidence.add_many("API responses", [x.blob() for x in server.transcript])
        evidence.add_many("stream frames", tap.frames)
    files = evidence.add_tree(server.home)  # and after the server closed the store
    evidence.add_many("CLI output", cli.transcript)
    evidence.add_many("notification deliveries", deliveries(receiver))
    temp = evidence.add_tree(tmp) + evidence.add_temp_files(started)
    prefixes = [token[:10] for token in server.tokens.values()]  # services/tokens.py shows these
    hits = scan(evidence, secrets, public=prefixes)
    reliability.count(CATEGORY, "cases", len(evidence.blobs))
    reliability.count(CATEGORY, "secrets_leaked", len(hits), why=str(hits[:5]))
    # a 503 naming the exchange as the cause is the truth when it is down; any other 5xx is a defect
    broken = [f"{x.status} {x.method} {x.url}" for x in server.transcript
              if x.status >= 500 and b'"exchange_unavailable"' not in x.body]  # fmt: skip
    reliability.count(CATEGORY, "http_5xx", len(broken), why=str(broken[:3]))
    print(
        f"\n[leak scan] {len(done)} steps: {done}\n{len(secrets)} secrets, {len(evidence.blobs)} sources "
        f"({files} data-dir files, {temp} temp files, {len(server.transcript)} API responses, "
        f"{len(tap.frames)} stream frames, {sum(len(b) for b in evidence.blobs.values())} bytes): "
        f"{len(hits)} hits"
    )
    assert len(tap.frames) > 0, "the stream carried nothing: the scan would miss its frames"
    # the write really failed (exit 1, one line) and its traceback went to a crash log in TMPDIR
    assert "CLI crash (file size limit): 1" in done, done
    assert temp > 0, "the crash log was not found"
    assert hits == [], hits
    assert broken == [], broken
    # The market read fails (503), or, when the hub still holds a fresh price, the guard refuses first:
    # the connection test just above found the venue down, so the connection is not online (422).
    outcomes = {"API order venue down: 503 exchange_unavailable",
                "API order venue down: 422 order_refused.connection_not_online"}  # fmt: skip
    assert outcomes & set(done), done
    assert all(r[0] == 0 for r in shown_codes(done)), done  # the store opens after the crash
    # what the scenario claims happened did happen (a scan of nothing would pass)
    # the bots ran in both modes and the notifications were delivered, Telegram's too
    assert "API create paper bot: 201" in done and "API start paper bot: 200" in done, done
    assert any(d.startswith("CLI create live bot: 0") for d in done), done
    assert "CLI bots/notifications views: [0, 0, 0, 0]" in done, done
    assert all(d.endswith(": 200") for d in done if d.startswith("GET /api/v1/bots")), done
    assert len(receiver.on("/hook")) >= 4
    assert any(r.path.startswith("/tg/bot") for r in receiver.received)
    assert "API add Bin Main: 201" in done and "CLI add Ku Main: 0" in done and "API rotate: 200" in done
