"""Notifications (issue 15): webhook and Telegram messages on bot fills, bot events and connection status.

`Notifier` (dispatcher.py) listens to the event bus and sends; `notifier_for(app, vault)` builds one from
an App and an unlocked vault (a `VaultSession` or an `UnlockedVault`); `run_until(app, passphrase, stop)`
is the server's background job. Channels live in the store with their secrets sealed (channels.py);
kinds.py names the event kinds a channel may filter by; sending.py documents the webhook signature.
"""

from __future__ import annotations

import asyncio

from tradewarden.adapters.vault.secret import Secret
from tradewarden.adapters.vault.vault import UnlockedVault
from tradewarden.logs import get_logger
from tradewarden.services.app import App
from tradewarden.services.errors import UserError
from tradewarden.services.notifications.dispatcher import Notifier, send_probe
from tradewarden.services.notifications.kinds import DEFAULT_KINDS, KINDS
from tradewarden.services.notifications.sending import SIGNATURE_HEADER, RetryPolicy, verify
from tradewarden.services.vault_access import hold_data_key
from tradewarden.services.vault_session import VaultSession

__all__ = [
    "DEFAULT_KINDS",
    "KINDS",
    "SIGNATURE_HEADER",
    "Notifier",
    "RetryPolicy",
    "notifier_for",
    "run_until",
    "send_probe",
    "verify",
]

log = get_logger(__name__)


def _opened_of(vault: VaultSession | UnlockedVault) -> UnlockedVault:
    if isinstance(vault, UnlockedVault):
        return vault
    # The session keeps its open vault to itself; notifications are the one other service that opens its
    # own sealed fields (channel secrets), in this process's memory only.
    return vault._opened


def notifier_for(app: App, vault: VaultSession | UnlockedVault, **options: object) -> Notifier:
    """A Notifier on `app`'s store and bus, opening channel secrets with `vault` (start() it on your loop)."""
    return Notifier(app, _opened_of(vault), **options)  # type: ignore[arg-type]


async def run_until(
    app: App, passphrase: Secret, stop: asyncio.Event, vault: VaultSession | UnlockedVault | None = None
) -> None:
    """Send notifications until `stop` is set (the API server's background job)."""
    if vault is None:
        try:  # the server holds the data key by now: no second Argon2id run
            vault = await asyncio.to_thread(hold_data_key, app, passphrase)
        except UserError as exc:  # no vault yet: there can be no channel either
            log.warning("notifications off: the vault cannot be opened", reason=exc.message)
            await stop.wait()
            return
    notifier = notifier_for(app, vault)
    try:
        await notifier.start()
    except Exception as exc:  # the server keeps serving without notifications; the log says why
        log.error("notifications could not start", error=type(exc).__name__)
        await notifier.stop()
        await stop.wait()
        return
    try:
        await stop.wait()
    finally:
        await notifier.stop()
