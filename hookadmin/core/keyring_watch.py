"""Waiting for the OS keyring to be unlocked, without ever prompting.

An engine whose secret reads failed because the keyring is locked (or its Secret
Service did not answer) waits here, on a thread of its own, until the keyring can be
used again, so the deliveries that wait go out within moments of the unlock instead of
at their next try (``secret_retry_interval``, 60 s).

With the Secret Service (Linux), :class:`UnlockWatch` asks the collection whether it is
locked (secretstorage's ``Collection.is_locked``: one property read, about 0.4 ms, never
an unlock prompt) and then sleeps in a D-Bus receive until the service signals a change
(``CollectionChanged``, which gnome-keyring sends within milliseconds of a lock or an
unlock, or a ``PropertiesChanged``), through jeepney's match rules and filters on the
connection secretstorage opens. A signal that never comes is covered by asking again
after :data:`FIRST_CHECK` seconds, doubling up to :data:`LAST_CHECK`. A service that
cannot be reached is tried again on the same schedule. Other keyring backends offer
neither, so :func:`unlock_watch` returns None for them and deliveries wait for their
next try.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from typing import TYPE_CHECKING

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.secret_service import is_secret_service
from hookadmin.core.secrets import HookSecrets, SecretStore

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection

log = logging.getLogger(__name__)

FIRST_CHECK = 2.0  # seconds before the collection is asked again without a signal
LAST_CHECK = 30.0  # the longest wait between two asks (the wait doubles up to this)
SERVICE_PATH = "/org/freedesktop/secrets"  # the Secret Service's objects are below it


class UnlockWatch:
    """Waits until one Secret Service collection is unlocked; never unlocks it.

    Args:
        collection_path: the collection's D-Bus object path (None: the ``default``
            alias, as secretstorage and keyring use it).
        first_check: seconds before the collection is asked again when no signal came.
        last_check: the longest such wait (each one doubles up to it), in seconds.
    """

    def __init__(self, collection_path: str | None = None, *,
                 first_check: float = FIRST_CHECK, last_check: float = LAST_CHECK) -> None:
        self.collection_path = collection_path
        self.first_check = first_check
        self.last_check = max(first_check, last_check)

    def wait(self, cancelled: threading.Event) -> bool:
        """Block until the collection can be read (True) or ``cancelled`` is set
        (False; noticed at the next signal or ask, at most ``last_check`` s later).
        Never raises: a service that does not answer is asked again later."""
        interval = self.first_check
        while not cancelled.is_set():
            try:
                if self._watch(cancelled, interval):
                    return True
            except Exception as err:  # noqa: BLE001 - no bus or service, a dropped connection
                log.debug("the keyring cannot be watched now: %s", err)
            if cancelled.wait(interval):
                return False
            interval = min(interval * 2, self.last_check)
        return False

    def _watch(self, cancelled: threading.Event, interval: float) -> bool:
        """On one connection: ask, and between asks wait for the service's signals.
        Returns True once unlocked, False when cancelled; raises when the connection
        fails (the caller waits, then opens a new one)."""
        import secretstorage
        from jeepney import MatchRule, message_bus

        connection: DBusConnection = secretstorage.dbus_init()
        try:
            collection = (secretstorage.Collection(connection, self.collection_path)
                          if self.collection_path is not None
                          else secretstorage.get_default_collection(connection))
            # By path, not sender: the bus matches the service's well-known name, but
            # jeepney's own filter sees only its unique name (":1.1") on each signal.
            rules = [MatchRule(type="signal", interface="org.freedesktop.Secret.Service",
                               member="CollectionChanged", path_namespace=SERVICE_PATH),
                     MatchRule(type="signal", interface="org.freedesktop.DBus.Properties",
                               member="PropertiesChanged", path_namespace=SERVICE_PATH)]
            signals: deque[object] = deque()
            with contextlib.ExitStack() as filters:
                for rule in rules:
                    connection.send_and_get_reply(message_bus.AddMatch(rule))
                    filters.enter_context(connection.filter(rule, queue=signals,
                                                            bufsize=64))
                while not cancelled.is_set():
                    if not collection.is_locked():
                        return True
                    try:
                        connection.recv_until_filtered(signals, timeout=interval)
                    except TimeoutError:
                        interval = min(interval * 2, self.last_check)
                    signals.clear()
            return False
        finally:
            connection.close()


def unlock_watch(secrets: HookSecrets) -> UnlockWatch | None:
    """The watch for the keyring ``secrets`` reads from, or None when it cannot be
    watched (a team database's secrets, a keyring backend other than the Secret
    Service): deliveries then wait for their next try."""
    if not isinstance(secrets, SecretStore):
        return None
    try:
        backend = secrets.keyring()
    except SecretStoreError:
        return None
    if not is_secret_service(backend):
        return None
    preferred = getattr(backend, "preferred_collection", None)
    return UnlockWatch(preferred if isinstance(preferred, str) else None)
