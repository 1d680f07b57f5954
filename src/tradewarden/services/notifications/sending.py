"""Sending one message to one channel: the webhook signature, Telegram's sendMessage, retries with backoff.

Webhook signature (what a receiver checks):

    X-TradeWarden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(signing key, "<t>.<raw body>")>

The signing key is the `twsk_…` string shown once when the channel was added, used as UTF-8 bytes. The
receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes, compares in constant time,
and refuses timestamps far from its clock (5 minutes, say) against replays. Each attempt is signed anew
(fresh `t`); the body's `id` stays the same across retries, so a receiver can drop duplicates.

Retries: transport errors, timeouts, HTTP 408, 429 and 5xx are retried, up to `attempts` tries, waiting
base·2^(n-1) seconds (at most `cap_s`, or what Retry-After asks within that cap) with jitter (50–100 % of
the wait); other answers fail at once. Errors are described in our words: never the URL (a Telegram URL
holds the bot token) nor a response body, Telegram's one-line `description` aside (redacted).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tradewarden import __version__
from tradewarden.adapters.vault.redaction import redact_text
from tradewarden.adapters.vault.secret import Secret
from tradewarden.services.notifications.channels import TELEGRAM, LoadedChannel
from tradewarden.services.notifications.messages import Message

SIGNATURE_HEADER = "X-TradeWarden-Signature"
EVENT_HEADER = "X-TradeWarden-Event"
DELIVERY_HEADER = "X-TradeWarden-Delivery"
SIGNATURE_VERSION = "v1"
MAX_ERROR_TEXT = 200
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = f"TradeWarden/{__version__} (notifications)"

# httpx logs every request's full URL at INFO: a webhook's capability path or Telegram's bot token. The
# redaction filter would mask them; not logging them at all is one defence less to rely on.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one message: attempts, backoff base and cap, and each request's timeout."""

    attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 60.0
    timeout_s: float = 10.0

    def delay(
        self, failed_attempts: int, retry_after_s: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after `failed_attempts` tries: exponential, jittered, never above `cap_s`."""
        wait = min(self.cap_s, self.base_s * 2.0 ** (failed_attempts - 1))
        if retry_after_s is not None:
            wait = min(self.cap_s, max(wait, retry_after_s))
        return wait * (rng or random).uniform(0.5, 1.0)

    def longest_total_wait_s(self) -> float:
        """The most the waits between tries can add up to (the bound the tests hold the sender to)."""
        return sum(min(self.cap_s, self.base_s * 2.0 ** (n - 1)) for n in range(1, self.attempts))


@dataclass(frozen=True)
class Outcome:
    """How one message's delivery ended."""

    ok: bool
    attempts: int
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Try:
    ok: bool
    retryable: bool
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def signature(key: Secret, body: bytes, timestamp: int) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(key.reveal().encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(key: str, body: bytes, header: str, now: float | None = None, tolerance_s: float = 300) -> bool:
    """What a receiver does with the header (a reference for users, and for our tests)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = hmac.new(key.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get(SIGNATURE_VERSION, ""))


def _request(channel: LoadedChannel, message: Message) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if channel.kind == TELEGRAM:
        payload = {
            "chat_id": channel.chat_id,
            "text": message.telegram_text(),
            "disable_web_page_preview": True,
        }
        return json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers
    body = message.webhook_body()
    if channel.signing_key is not None:
        headers[SIGNATURE_HEADER] = signature(channel.signing_key, body, int(time.time()))
    headers[EVENT_HEADER] = message.kind
    headers[DELIVERY_HEADER] = message.id
    return body, headers


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None
    return None


def _telegram_answer(response: httpx.Response) -> tuple[bool, str | None, float | None]:
    """(ok, Telegram's description, its retry_after) from a Bot API answer."""
    try:
        answer = response.json()
    except ValueError:
        return False, "the Bot API answered something that is not JSON", None
    if not isinstance(answer, dict):
        return False, "the Bot API answered an unexpected shape", None
    description = answer.get("description")
    text = redact_text(str(description))[:MAX_ERROR_TEXT] if description else None
    parameters = answer.get("parameters")
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    wait = float(retry_after) if isinstance(retry_after, int | float) else None
    return answer.get("ok") is True, text, wait


def _transport_error(exc: httpx.HTTPError, timeout_s: float) -> str:
    # Our words only: httpx's own messages may quote the URL, which for Telegram holds the token.
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect to the receiver"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the receiver closed the connection or broke the HTTP protocol"
    return f"network error ({type(exc).__name__})"


async def send_once(
    client: httpx.AsyncClient, channel: LoadedChannel, message: Message, timeout_s: float
) -> _Try:
    """One attempt."""
    body, headers = _request(channel, message)
    try:
        response = await client.post(channel.url.reveal(), content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return _Try(False, True, error=_transport_error(exc, timeout_s))
    status = response.status_code
    if channel.kind == TELEGRAM:
        ok, description, wait = _telegram_answer(response)
        if 200 <= status < 300 and ok:
            return _Try(True, False, status)
        error = f"HTTP {status}" + (f": {description}" if description else "")
        return _Try(False, status in RETRYABLE_STATUS, status, error, wait or _retry_after(response))
    if 200 <= status < 300:
        return _Try(True, False, status)
    reason = " (redirects are not followed)" if 300 <= status < 400 else ""
    return _Try(False, status in RETRYABLE_STATUS, status, f"HTTP {status}{reason}", _retry_after(response))


Sleep = Callable[[float], Awaitable[None]]


async def deliver(
    client: httpx.AsyncClient,
    channel: LoadedChannel,
    message: Message,
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
) -> Outcome:
    """Send with retries per `policy`; the outcome of the last try."""
    last = _Try(False, False, error="not sent")
    for attempt in range(1, max(1, policy.attempts) + 1):
        last = await send_once(client, channel, message, policy.timeout_s)
        if last.ok or not last.retryable or attempt >= policy.attempts:
            return Outcome(last.ok, attempt, last.status_code, last.error)
        await sleep(policy.delay(attempt, last.retry_after_s))
    return Outcome(last.ok, policy.attempts, last.status_code, last.error)


def new_client() -> httpx.AsyncClient:
    """The HTTP client notifications go out on: no redirects, no proxy or credentials from the environment."""
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, headers={"User-Agent": USER_AGENT})
