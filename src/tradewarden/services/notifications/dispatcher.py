"""The notifier: hears the event bus, picks what is worth telling, and sends it to each channel's queue.

Nothing here can slow a publisher: the bus hands events over without waiting (services/events.py), the
dispatcher runs as its own task, and every channel has its own bounded queue and sender task, so a receiver
that hangs or fails delays only its own messages. A full queue drops its oldest message (counted, logged).
Store reads and writes run in worker threads. Channels are re-read when the store changes (another process,
the CLI, may add or remove one while the server runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from tradewarden.adapters.store.models import Connection, NotificationChannel
from tradewarden.adapters.vault.crypto import DecryptionError
from tradewarden.adapters.vault.vault import UnlockedVault
from tradewarden.logs import get_logger
from tradewarden.services import events
from tradewarden.services.app import App
from tradewarden.services.notifications import channels as store
from tradewarden.services.notifications.channels import LoadedChannel
from tradewarden.services.notifications.kinds import kind_of
from tradewarden.services.notifications.messages import Message, message_for, probe_message
from tradewarden.services.notifications.sending import Outcome, RetryPolicy, deliver, new_client

log = get_logger(__name__)

DEFAULT_QUEUE_SIZE = 100  # messages waiting per channel
DEFAULT_BUS_QUEUE_SIZE = 1000  # events waiting for the dispatcher
RELOAD_S = 5.0  # how stale the channel list may get where the store cannot say it changed (PostgreSQL)
STOP_TIMEOUT_S = 5.0


@dataclass
class ChannelStats:
    """What happened to one channel's messages since the notifier started."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0


@dataclass(eq=False)
class _Lane:
    """One channel's queue and the task sending from it."""

    channel: LoadedChannel
    queue: deque[Message]
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    stats: ChannelStats = field(default_factory=ChannelStats)
    drop_logged_at: float = -float("inf")

    def put(self, message: Message) -> bool:
        """Queue `message`; False when the oldest waiting one had to make room."""
        full = self.queue.maxlen is not None and len(self.queue) >= self.queue.maxlen
        if full:
            self.stats.dropped += 1
        self.queue.append(message)  # a deque with maxlen drops from the other end
        self.ready.set()
        return not full


class Notifier:
    """Sends notifications for the bus's events to every channel in the store, while started."""

    def __init__(
        self,
        app: App,
        opened: UnlockedVault,
        *,
        policy: RetryPolicy | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        bus_queue_size: int = DEFAULT_BUS_QUEUE_SIZE,
        keep_deliveries: int = store.KEEP_DELIVERIES,
        reload_s: float = RELOAD_S,
        client_factory: Callable[[], httpx.AsyncClient] = new_client,
    ) -> None:
        self.app = app
        self._opened = opened
        self.policy = policy or RetryPolicy()
        self.queue_size = queue_size
        self.bus_queue_size = bus_queue_size
        self.keep_deliveries = keep_deliveries
        self.reload_s = reload_s
        self._client_factory = client_factory
        self._client: httpx.AsyncClient | None = None
        self._lanes: dict[str, _Lane] = {}
        self._names: dict[str, str] = {}  # connection id -> name
        self._loaded_version: int | None = None
        self._loaded_at = -float("inf")
        self._subscription: events.Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._publishing: contextlib.ExitStack | None = None
        self.handled = 0  # events found worth telling

    def __repr__(self) -> str:
        return f"Notifier(channels={len(self._lanes)}, running={self.running})"

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._task is not None and not self._task.done()

    @property
    def stats(self) -> dict[str, ChannelStats]:
        """Per channel name: sent, failed, dropped."""
        return {lane.channel.name: lane.stats for lane in self._lanes.values()}

    @property
    def bus_dropped(self) -> int:
        """Events the bus dropped because the dispatcher fell behind."""
        return self._subscription.dropped if self._subscription is not None else 0

    async def start(self) -> None:
        """Subscribe to the bus and start dispatching (call from the loop it should run on)."""
        if self.running:
            return
        self._client = self._client_factory()
        self._publishing = contextlib.ExitStack()
        # Connection status changes reach the bus only while audit rows are being published.
        self._publishing.enter_context(events.audit_publishing(self.app.store))
        self._subscription = events.bus_for(self.app.store).subscribe(self.bus_queue_size)
        await self._refresh(force=True)
        self._task = asyncio.create_task(self._dispatch(), name="tradewarden-notifier")

    async def stop(self) -> None:
        """Stop dispatching and sending; messages still queued are dropped (counted in the log)."""
        tasks = [t for t in [self._task, *(lane.task for lane in self._lanes.values())] if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=STOP_TIMEOUT_S)
        waiting = sum(len(lane.queue) for lane in self._lanes.values())
        dropped = sum(lane.stats.dropped for lane in self._lanes.values())
        if waiting or dropped:
            log.warning("notifier stopped", unsent=waiting, dropped_when_full=dropped)
        self._task = None
        self._lanes.clear()
        if self._subscription is not None:
            events.bus_for(self.app.store).unsubscribe(self._subscription)
            self._subscription = None
        if self._publishing is not None:
            self._publishing.close()
            self._publishing = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Notifier:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # -- channels ------------------------------------------------------------------------------------------

    def _load(self) -> tuple[list[LoadedChannel], dict[str, str]]:
        loaded: list[LoadedChannel] = []
        with self.app.store.session() as session:
            for row in session.scalars(select(NotificationChannel).where(NotificationChannel.enabled)):
                try:
                    loaded.append(store.load(session, self._opened, row))
                except (DecryptionError, KeyError):
                    # Altered or incomplete sealed fields: this channel is skipped, never sent in clear.
                    log.warning("notification channel secrets do not open; skipped", channel=row.name)
            names = {row.id: row.name for row in session.execute(select(Connection.id, Connection.name))}
        return loaded, names

    async def _refresh(self, force: bool = False) -> None:
        version = await asyncio.to_thread(self.app.store.data_version)
        fresh = version is not None and version == self._loaded_version
        if not force and (fresh or (version is None and time.monotonic() - self._loaded_at < self.reload_s)):
            return
        loaded, names = await asyncio.to_thread(self._load)
        self._loaded_version, self._loaded_at, self._names = version, time.monotonic(), names
        wanted = {channel.id: channel for channel in loaded}
        for channel_id in [cid for cid in self._lanes if cid not in wanted]:
            lane = self._lanes.pop(channel_id)
            if lane.task is not None:
                lane.task.cancel()
        for channel_id, channel in wanted.items():
            known = self._lanes.get(channel_id)
            if known is not None:
                known.channel = channel
                continue
            lane = _Lane(channel, deque(maxlen=self.queue_size))
            lane.task = asyncio.create_task(self._send_from(lane), name=f"tradewarden-notify-{channel_id}")
            self._lanes[channel_id] = lane

    # -- dispatching and sending ------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        assert self._subscription is not None
        reported_bus_drops = 0
        while True:
            event = await self._subscription.get()
            kind = kind_of(event)
            if kind is None:
                continue
            self.handled += 1
            try:
                await self._refresh()
            except Exception as exc:  # the store is unavailable: keep the channels we know
                log.warning("notification channels could not be re-read", error=type(exc).__name__)
            try:
                message = message_for(event, kind, self._names)
            except Exception as exc:  # one odd event must not end notifications for the process
                log.warning("notification message could not be built", kind=kind, error=type(exc).__name__)
                continue
            now = time.monotonic()
            for lane in self._lanes.values():
                if kind in lane.channel.events and not lane.put(message) and now - lane.drop_logged_at >= 1.0:
                    lane.drop_logged_at = now  # a burst logs once a second, with the running count
                    log.warning(
                        "notification queue full; oldest messages dropped",
                        channel=lane.channel.name,
                        dropped=lane.stats.dropped,
                    )
            if self.bus_dropped > reported_bus_drops:
                reported_bus_drops = self.bus_dropped
                log.warning("notifier fell behind the event bus; events dropped", dropped=reported_bus_drops)

    async def _send_from(self, lane: _Lane) -> None:
        assert self._client is not None
        while True:
            while not lane.queue:
                lane.ready.clear()
                await lane.ready.wait()
            message = lane.queue.popleft()
            try:
                outcome = await deliver(self._client, lane.channel, message, self.policy)
            except Exception as exc:  # a bug or an odd answer: this message fails, the lane goes on
                outcome = Outcome(False, 1, error=f"internal error ({type(exc).__name__})")
            if outcome.ok:
                lane.stats.sent += 1
            else:
                lane.stats.failed += 1
                log.warning(
                    "notification not delivered",
                    channel=lane.channel.name,
                    kind=message.kind,
                    attempts=outcome.attempts,
                    error=outcome.error,
                )
            await self._record(lane.channel, message, outcome)

    async def _record(self, channel: LoadedChannel, message: Message, outcome: Outcome) -> None:
        try:
            await asyncio.to_thread(
                store.record_delivery,
                self.app,
                channel.id,
                message.kind,
                outcome.ok,
                outcome.attempts,
                outcome.status_code,
                outcome.error,
                self.keep_deliveries,
            )
        except Exception as exc:  # keep sending even when the outcome cannot be written
            log.warning("notification outcome not recorded", channel=channel.name, error=type(exc).__name__)


async def send_probe(
    app: App, opened: UnlockedVault, name: str, policy: RetryPolicy | None = None
) -> tuple[str, Outcome]:
    """Send the test message to the named channel now; (its display name, the outcome), recorded."""
    channel = await asyncio.to_thread(store.load_named, app, opened, name)
    policy = policy or RetryPolicy(attempts=2, base_s=1.0, cap_s=2.0, timeout_s=10.0)
    async with new_client() as client:
        outcome = await deliver(client, channel, probe_message(channel.name), policy)
    await asyncio.to_thread(
        store.record_delivery,
        app,
        channel.id,
        "test",
        outcome.ok,
        outcome.attempts,
        outcome.status_code,
        outcome.error,
    )
    return channel.name, outcome
