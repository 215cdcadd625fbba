"""The Secret Service (Linux) as :class:`hookadmin.core.secrets.SecretStore` talks to it.

When :mod:`keyring` selects its Secret Service backend, hookadmin uses
:mod:`secretstorage`'s public API (the library that backend is built on) over **one**
D-Bus connection per store (:class:`SecretServiceLink`), opened on first use and
opened again when it breaks (a keyring daemon that restarted). Entries are written with
the same attributes keyring uses (``service``, ``username``, ``application``), so
``keyring get hookadmin NAME`` still finds them, and every entry is looked up by those
attributes. All reads of one connection share one encrypted session.

The functions taking a ``collection`` run inside :meth:`SecretServiceLink.run`, which
turns their failures into :class:`~hookadmin.core.errors.SecretStoreError`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hookadmin.core.errors import SecretStoreError
from hookadmin.core.keyring_access import APPLICATION, LOCKED, SERVICE_NAME, unavailable

if TYPE_CHECKING:
    from secretstorage.collection import Collection
    from secretstorage.item import Item

T = TypeVar("T")


def is_secret_service(backend: Any) -> bool:
    """True when ``backend`` is keyring's Secret Service backend (Linux)."""
    try:
        from keyring.backends import SecretService
    except ImportError:  # keyring without secretstorage (macOS, Windows)
        return False
    return isinstance(backend, SecretService.Keyring)


class SecretServiceLink:
    """The open D-Bus connection and collection of one store. Safe to use from several
    threads (calls are made one at a time).

    Args:
        prompt: ask the Secret Service to unlock a locked collection (the desktop may
            ask for the password); False: a locked one is only reported.
    """

    def __init__(self, *, prompt: bool) -> None:
        self._prompt = prompt
        self._lock = threading.RLock()
        self.collection: Collection | None = None

    def close(self) -> None:
        """Close the connection, if one is open (the next call opens a new one)."""
        with self._lock:
            self.drop()

    def drop(self) -> None:
        """Close the connection without waiting for a call in progress (a finalizer's
        close: nothing else uses the store any more)."""
        collection, self.collection = self.collection, None
        if collection is not None:
            with contextlib.suppress(Exception):
                collection.connection.close()

    def run(self, backend: Any, action: Callable[[Collection], T]) -> T:
        """Run ``action`` on the open collection, opening the connection first if
        needed (the collection ``backend.preferred_collection`` names, else the default
        one). When the call fails for any reason but a locked keyring, the connection is
        closed and the call made once more on a new one (the daemon may have restarted:
        its sessions and our connection's state are gone).

        Returns:
            What ``action`` returns.

        Raises:
            SecretStoreError: locked (``cause == "locked"``), or the Secret Service did
                not answer twice (``"unavailable"``).
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    return action(self._collection(backend))
                except SecretStoreError:
                    self.drop()
                    raise
                except Exception as err:
                    self.drop()
                    if attempt == 2 or _is_locked_error(err):
                        raise _translate(err) from err
            raise AssertionError("unreachable")  # pragma: no cover

    def _collection(self, backend: Any) -> Collection:
        if self.collection is not None:
            return self.collection
        import secretstorage

        connection = secretstorage.dbus_init()
        try:
            preferred = getattr(backend, "preferred_collection", None)
            collection = (secretstorage.Collection(connection, preferred)
                          if isinstance(preferred, str)
                          else secretstorage.get_default_collection(connection))
        except BaseException:
            connection.close()
            raise
        self.collection = collection  # closed by run() if not unlocked
        ensure_unlocked(collection, self._prompt)
        return collection


def read_first(collection: Collection, names: Sequence[str]) -> str | None:
    """The secret of the first of the entries ``names`` that exists, or None."""
    for name in names:
        value = _read_item(collection, _find(collection, name))
        if value is not None:
            return value
    return None


def read_wanted(collection: Collection, wanted: dict[str, int],
                on_found: Callable[[int, str], None] | None = None) -> dict[int, str]:
    """The secrets of the entries named in ``wanted`` (entry name → hook id), read by
    one search for every hookadmin entry: hook id → secret, entries that do not exist
    left out. ``on_found(hook_id, secret)`` is called as each one is read; of duplicate
    entries the oldest wins."""
    out: dict[int, str] = {}
    # Oldest first (gnome-keyring numbers its item paths in creation order): the
    # order hooks were made in, which is the order deliveries are claimed in.
    items = sorted(collection.search_items({"service": SERVICE_NAME}),
                   key=lambda i: (len(i.item_path), i.item_path))
    for item in items:
        hook_id = wanted.get(item.get_attributes().get("username", ""))
        if hook_id is None or hook_id in out:  # the first of duplicates
            continue
        value = _read_item(collection, item)
        if value is not None:
            out[hook_id] = value
            if on_found is not None:
                on_found(hook_id, value)
    return out


def write(collection: Collection, name: str, secret: str) -> None:
    """Store (or replace) the entry ``name`` with keyring's own attributes and label."""
    collection.create_item(f"Password for '{name}' on '{SERVICE_NAME}'",
                           {**_attributes(name), "application": APPLICATION},
                           secret.encode("utf-8"), replace=True)


def remove(collection: Collection, name: str) -> None:
    """Delete every entry named ``name``; none is not an error."""
    from secretstorage.exceptions import ItemNotFoundException

    for item in list(collection.search_items(_attributes(name))):
        with contextlib.suppress(ItemNotFoundException):  # gone meanwhile
            item.delete()


def ensure_unlocked(collection: Collection, prompt: bool) -> None:
    """Unlock the collection if it is locked and ``prompt`` allows (the desktop may ask
    for the password).

    Raises:
        SecretStoreError: it stays locked (``cause == "locked"``).
    """
    if collection.is_locked():
        if prompt:
            collection.unlock()
        if collection.is_locked():
            raise SecretStoreError(LOCKED, cause="locked")


def _attributes(name: str) -> dict[str, str]:
    """The attributes an entry is looked up by (keyring's own query)."""
    return {"service": SERVICE_NAME, "username": name}


def _find(collection: Collection, name: str) -> Item | None:
    return next(iter(collection.search_items(_attributes(name))), None)


def _read_item(collection: Collection, item: Item | None) -> str | None:
    """The item's secret over the collection's one encrypted session (opened by the
    first read and kept), or None for no item or one deleted meanwhile."""
    from secretstorage.exceptions import ItemNotFoundException

    if item is None:
        return None
    item.session = item.session or collection.session
    try:
        value = item.get_secret()
    except ItemNotFoundException:
        return None
    collection.session = collection.session or item.session
    return value.decode("utf-8")


def _is_locked_error(err: Exception) -> bool:
    from secretstorage.exceptions import LockedException

    return isinstance(err, LockedException)


def _translate(err: Exception) -> SecretStoreError:
    """A secretstorage or jeepney failure as one sentence (never with a secret)."""
    if _is_locked_error(err):
        return SecretStoreError(LOCKED, cause="locked")
    return unavailable(err)
