"""What many exchange clients in one process share: one HTTP session, and single-flight public calls.

One aiohttp session means one connection pool and one TLS context (each ccxt client otherwise loads
the CA bundle itself, ~14 ms each). Public calls are the same for every key, so concurrent callers of
the same (exchange, endpoint, call) share one upstream request; a finished call is evicted at once.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from tradewarden.adapters.exchanges import errors
from tradewarden.adapters.exchanges.client import build_client, tls_context
from tradewarden.adapters.exchanges.probes import Call


def http_session() -> aiohttp.ClientSession:
    """An aiohttp session verifying TLS with the process's shared context (as ccxt would)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=tls_context(), limit=200), trust_env=False
    )


@dataclass(frozen=True)
class Outcome:
    """A public call's result or failure, with the local time at mid-flight (for clock-skew estimates)."""

    result: Any
    error: BaseException | None
    http_status: int | None
    body: str | None
    local_mid_ms: float


class SharedClients:
    """Unauthenticated clients per (exchange, endpoint, call) over one session, with single-flight."""

    def __init__(self, session: aiohttp.ClientSession, timeout_ms: int = 30_000) -> None:
        self.session = session
        self.timeout_ms = timeout_ms
        self._clients: dict[tuple[str, str | None, str], Any] = {}
        self._inflight: dict[tuple[str, str | None, str, str], asyncio.Task[Outcome]] = {}

    def client(
        self, ccxt_id: str, endpoint: str | None, purpose: str, options: dict[str, Any] | None = None
    ) -> Any:
        """The shared public client for this exchange, endpoint and purpose (created on first use)."""
        key = (ccxt_id, endpoint, purpose)
        if key not in self._clients:
            client = build_client(ccxt_id, None, endpoint, options, self.timeout_ms, session=self.session)
            errors.install_response_capture(client)
            self._clients[key] = client
        return self._clients[key]

    async def call(
        self, ccxt_id: str, endpoint: str | None, call: Call, options: dict[str, Any] | None = None
    ) -> Outcome:
        """Run `call` once for all concurrent callers with the same exchange, endpoint and call."""
        key = (ccxt_id, endpoint, call.method, repr(sorted(call.params.items())))
        task = self._inflight.get(key)
        if task is None:
            client = self.client(ccxt_id, endpoint, call.method, options)
            task = asyncio.ensure_future(self.run_on(client, call))
            self._inflight[key] = task
            # Finished calls leave at once: a later caller gets a fresh answer, not this one forever
            # (caching with expiry is the market hub's job, adapters/market/).
            task.add_done_callback(functools.partial(self._evict, key))
        return await asyncio.shield(task)

    def _evict(self, key: tuple[str, str | None, str, str], task: asyncio.Task[Outcome]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]

    @staticmethod
    async def run_on(client: Any, call: Call) -> Outcome:
        """Run `call` on `client`, capturing its failure and the local time at mid-flight."""
        errors.install_response_capture(client)
        before = time.time() * 1000
        try:
            result = await call(client)
        except Exception as exc:
            status, body = errors.last_response(client)
            return Outcome(None, exc, status, body, (before + time.time() * 1000) / 2)
        return Outcome(result, None, None, None, (before + time.time() * 1000) / 2)

    async def close(self) -> None:
        """Close every shared client (the session belongs to the caller)."""
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        self._inflight.clear()
