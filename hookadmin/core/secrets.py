"""Hook secrets, kept only in the OS keyring.

Each entry lives under the service name ``hookadmin`` with the user name
``<store id>/hook/<hook id>``, where the store id is a random UUID kept in the
database, so two data directories never see or overwrite each other's secrets.
There is no plaintext fallback: when no usable keyring exists, every operation
raises :class:`~hookadmin.core.errors.SecretStoreError` with one sentence naming the
cause and what to do.

On Linux, when :mod:`keyring` selects its Secret Service backend, hookadmin talks to
the Secret Service through :mod:`secretstorage`'s public API (the library that
backend is built on) over **one** D-Bus connection per :class:`SecretStore`, opened on
first use and opened again when it breaks (a keyring daemon that restarted). Entries
are written with the same attributes keyring uses (``service``, ``username``,
``application``), so ``keyring get hookadmin NAME`` still finds them, and every entry
is looked up by those attributes. Other backends (macOS Keychain, Windows Credential
Locker, a keyring configured by the user) go through keyring's public API.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from hookadmin.core.errors import SecretStoreError

if TYPE_CHECKING:
    from secretstorage.collection import Collection
    from secretstorage.item import Item

SERVICE_NAME = "hookadmin"
# What keyring's Secret Service backend writes as the ``application`` attribute.
APPLICATION = "Python keyring library"
# get_many looks each name up on its own up to this many hooks; beyond, it lists
# every hookadmin entry once (a search costs the daemon a pass over its items).
_LOOKUP_ONE_BY_ONE = 16

NO_BACKEND = (
    "No usable OS keyring was found (hookadmin keeps secrets only there: on Linux a Secret "
    "Service such as gnome-keyring or KWallet in your D-Bus session); start one and try again."
)
LOCKED = ("The OS keyring is locked; unlock it (for example by logging in to your desktop "
          "session or opening your keyring manager) and try again.")
UNAVAILABLE = ("The OS keyring did not answer ({detail}); check that your keyring service is "
               "running and try again.")
MISSING = ("The secret of hook {hook_id} is not in the OS keyring (it may have been deleted "
           "there); reset it with `hookadmin hooks reset-secret {hook_id}`.")

T = TypeVar("T")


class _Link:
    """The open D-Bus connection and collection of one :class:`SecretStore` (a box a
    finalizer can close without keeping the store alive)."""

    def __init__(self) -> None:
        self.collection: Collection | None = None

    def close(self) -> None:
        collection, self.collection = self.collection, None
        if collection is not None:
            with contextlib.suppress(Exception):
                collection.connection.close()


class HookSecrets(Protocol):
    """Where hook secrets are kept: the OS keyring (:class:`SecretStore`), or a team
    database (:class:`hookadmin.core.team.secrets.EncryptedSecretStore`). Every method
    raises :class:`~hookadmin.core.errors.SecretStoreError` when the store cannot be
    used; see :class:`SecretStore` for each method's contract."""

    def check(self) -> None:
        """Make sure the store can be used now, without reading any secret."""

    def get(self, hook_id: int) -> str:
        """The secret of ``hook_id`` (``cause == "missing"`` when there is none)."""

    def get_optional(self, hook_id: int, *, previous: bool = False,
                     options: bool = False) -> str | None:
        """The secret (or the replaced one, or the option secrets' entry), or ``None``."""

    def get_many(self, hook_ids: Sequence[int], *,
                 on_found: Callable[[int, str], None] | None = None) -> dict[int, str]:
        """Hook id → secret for those of ``hook_ids`` that have one; ``on_found`` is
        called as each one is read."""

    def set(self, hook_id: int, secret: str, *, previous: bool = False,
            options: bool = False) -> None:
        """Store (or replace) the secret (or the replaced one, or the option secrets)."""

    def delete(self, hook_id: int, *, previous: bool = False, options: bool = False) -> None:
        """Remove the secret (or the replaced one, or the option secrets); a missing one
        is not an error."""

    def name_of(self, hook_id: int, *, previous: bool = False, options: bool = False) -> str:
        """The entry name of a hook's secret (or the replaced one, or the option secrets'
        entry; never the secret), as :meth:`delete_name` takes it."""
        ...

    def delete_name(self, name: str) -> None:
        """Remove the entry with this name; a missing one is not an error."""

    def close(self) -> None:
        """Release the connection the store holds, if any."""


class SecretStore:
    """Reads and writes hook secrets in the OS keyring. Safe to use from several
    threads (calls to the keyring are made one at a time). Call :meth:`close` when
    done; an unclosed store closes its connection when it is garbage collected.

    Args:
        store_id: the per-database UUID that namespaces every entry.
        backend: a :class:`keyring.backend.KeyringBackend`; defaults to the one
            :func:`keyring.get_keyring` selects (honouring the user's keyring config).
        parent_ids: store ids of the databases this one was copied from, whose
            secrets it reads (never writes or deletes) until it has its own.
        prompt: ask the Secret Service to unlock a locked collection (the desktop may
            ask for the password); False: a locked one is only reported (the engine).
    """

    def __init__(self, store_id: str, backend: Any | None = None, *,
                 parent_ids: Sequence[str] = (), prompt: bool = True) -> None:
        self._store_id = store_id
        self._prompt = prompt
        self._backend = backend
        self._parent_ids = tuple(parent_ids)
        self._lock = threading.RLock()
        self._link = _Link()
        self._closer = weakref.finalize(self, self._link.close)

    def close(self) -> None:
        """Close the D-Bus connection, if one is open (the next call opens a new one)."""
        with self._lock:
            self._link.close()

    def __enter__(self) -> SecretStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _username(self, hook_id: int, *, previous: bool = False, options: bool = False,
                  store_id: str = "") -> str:
        return (f"{store_id or self._store_id}/"
                f"{entry_suffix(hook_id, previous=previous, options=options)}")

    def _keyring(self) -> Any:
        return keyring_backend(self._backend)

    def keyring(self) -> Any:
        """The keyring backend this store uses (see :func:`keyring_backend`).

        Raises:
            SecretStoreError: there is no usable backend."""
        return self._keyring()

    def check(self) -> None:
        """Make sure the keyring can be used now, without reading any secret (one
        round trip on an open connection).

        Raises:
            SecretStoreError: no backend, locked, or not answering.
        """
        backend = self._keyring()
        if is_secret_service(backend):
            self._with_collection(backend, lambda c: _ensure_unlocked(c, self._prompt))
        else:
            with _translated():
                backend.get_password(SERVICE_NAME, self._username(0))

    def get(self, hook_id: int) -> str:
        """The secret of ``hook_id``.

        Raises:
            SecretStoreError: the keyring is unusable (``cause`` says why) or holds no
                secret for this hook (``cause == "missing"``).
        """
        secret = self.get_optional(hook_id)
        if secret is None:
            raise SecretStoreError(MISSING.format(hook_id=hook_id), cause="missing")
        return secret

    def get_optional(self, hook_id: int, *, previous: bool = False,
                     options: bool = False) -> str | None:
        """The secret of ``hook_id`` (or the one it replaced, with ``previous``; or its
        option secrets as JSON, with ``options``), or ``None`` when there is none.

        Raises:
            SecretStoreError: the keyring is unusable.
        """
        # A copied database reads the secrets of the one it was copied from until it
        # writes its own; it never writes or deletes theirs.
        names = [self._username(hook_id, previous=previous, options=options, store_id=s)
                 for s in (self._store_id, *self._parent_ids)]
        backend = self._keyring()
        if is_secret_service(backend):
            def read(collection: Collection) -> str | None:
                for name in names:
                    value = _read_item(collection, _find(collection, name))
                    if value is not None:
                        return value
                return None
            return self._with_collection(backend, read)
        with _translated():
            for name in names:
                value = backend.get_password(SERVICE_NAME, name)
                if isinstance(value, str):
                    return value
        return None

    def get_many(self, hook_ids: Sequence[int], *,
                 on_found: Callable[[int, str], None] | None = None) -> dict[int, str]:
        """The secrets of many hooks at once: hook id → secret, hooks without one left
        out. ``on_found(hook_id, secret)``, if given, is called (on this thread) as each
        one is read, so a caller can use the first ones before the last are read.

        With the Secret Service (Linux), one connection and one encrypted session serve
        every read: up to 16 hooks are looked up by name, more by one search for every
        hookadmin entry (each then costs four round trips, about 1.5 ms on the test
        machine, however many entries the keyring holds). Other backends, and secrets inherited
        from the database this one was copied from, are read one by one.

        Raises:
            SecretStoreError: the keyring is unusable (no backend, locked, not answering).
        """
        if not hook_ids:
            return {}
        backend = self._keyring()
        if not is_secret_service(backend) or len(hook_ids) <= _LOOKUP_ONE_BY_ONE:
            found = {}
            for hook_id in hook_ids:
                value = self.get_optional(hook_id)
                if value is not None:
                    found[hook_id] = value
                    if on_found is not None:
                        on_found(hook_id, value)
            return found
        wanted = {self._username(h): h for h in hook_ids}

        def read(collection: Collection) -> dict[int, str]:
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
        found = self._with_collection(backend, read)
        if self._parent_ids:
            for hook_id in hook_ids:
                if hook_id not in found:
                    value = self.get_optional(hook_id)
                    if value is not None:
                        found[hook_id] = value
                        if on_found is not None:
                            on_found(hook_id, value)
        return found

    def set(self, hook_id: int, secret: str, *, previous: bool = False,
            options: bool = False) -> None:
        """Store (or replace) the secret of ``hook_id`` (or the replaced one, or its
        option secrets as JSON).

        Raises:
            SecretStoreError: the keyring is unusable or refused the write.
        """
        name = self._username(hook_id, previous=previous, options=options)
        backend = self._keyring()
        if is_secret_service(backend):
            def write(collection: Collection) -> None:
                collection.create_item(f"Password for '{name}' on '{SERVICE_NAME}'",
                                       {**_attributes(name), "application": APPLICATION},
                                       secret.encode("utf-8"), replace=True)
            self._with_collection(backend, write)
            return
        with _translated():
            backend.set_password(SERVICE_NAME, name, secret)

    def delete(self, hook_id: int, *, previous: bool = False, options: bool = False) -> None:
        """Remove the secret of ``hook_id`` (or the replaced one, or its option secrets);
        a missing entry is not an error.

        Raises:
            SecretStoreError: the keyring is unusable.
        """
        self.delete_name(self._username(hook_id, previous=previous, options=options))

    def name_of(self, hook_id: int, *, previous: bool = False, options: bool = False) -> str:
        """The keyring user name of a hook's secret (or the replaced one, or its option
        secrets' entry; never the secret), as :meth:`delete_name` takes it."""
        return self._username(hook_id, previous=previous, options=options)

    def delete_name(self, name: str) -> None:
        """Remove the entry with this user name (see :meth:`name_of`); a missing entry
        is not an error.

        Raises:
            SecretStoreError: the keyring is unusable.
        """
        backend = self._keyring()
        if is_secret_service(backend):
            def remove(collection: Collection) -> None:
                from secretstorage.exceptions import ItemNotFoundException

                for item in list(collection.search_items(_attributes(name))):
                    with contextlib.suppress(ItemNotFoundException):  # gone meanwhile
                        item.delete()
            self._with_collection(backend, remove)
            return
        try:
            with _translated():
                backend.delete_password(SERVICE_NAME, name)
        except SecretStoreError as err:
            if err.cause != "missing":
                raise

    # -- the Secret Service connection --------------------------------------------------

    def _with_collection(self, backend: Any, action: Callable[[Collection], T]) -> T:
        """Run ``action`` on the open collection, opening the connection first if
        needed. When the call fails for any reason but a locked keyring, the connection
        is closed and the call made once more on a new one (the daemon may have
        restarted: its sessions and our connection's state are gone).

        Raises:
            SecretStoreError: locked (``cause == "locked"``), or the Secret Service did
                not answer twice (``"unavailable"``).
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    return action(self._collection(backend))
                except SecretStoreError:
                    self._link.close()
                    raise
                except Exception as err:
                    self._link.close()
                    if attempt == 2 or _is_locked_error(err):
                        raise _translate(err) from err
            raise AssertionError("unreachable")  # pragma: no cover

    def _collection(self, backend: Any) -> Collection:
        link = self._link
        if link.collection is not None:
            return link.collection
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
        link.collection = collection  # closed by _with_collection if not unlocked
        _ensure_unlocked(collection, self._prompt)
        return collection


def entry_suffix(hook_id: int, *, previous: bool = False, options: bool = False) -> str:
    """The name of a hook's entry below its store: ``hook/<id>`` (its signing secret),
    ``hook/<id>/previous`` (the one a reset replaced) or ``hook/<id>/options`` (its
    option secrets as a JSON object: a Slack URL, a routing key, passwords, secret header
    values)."""
    if options:
        return f"hook/{hook_id}/options"
    return f"hook/{hook_id}/previous" if previous else f"hook/{hook_id}"


def keyring_backend(backend: Any | None = None) -> Any:
    """``backend``, or the one :func:`keyring.get_keyring` selects, if it can be used.

    Raises:
        SecretStoreError: there is no usable backend (``cause == "no_backend"``).
    """
    backend = backend if backend is not None else keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or _is_empty_chain(backend):
        raise SecretStoreError(NO_BACKEND, cause="no_backend")
    return backend


def read_entry(name: str, backend: Any | None = None) -> str | None:
    """The value of the keyring entry ``name`` under the service ``hookadmin``, or
    ``None`` when there is none. For entries other than hook secrets (a team key).

    Raises:
        SecretStoreError: the keyring is unusable (no backend, locked, not answering).
    """
    chosen = keyring_backend(backend)
    with _translated():
        value = chosen.get_password(SERVICE_NAME, name)
    return value if isinstance(value, str) else None


def write_entry(name: str, value: str, backend: Any | None = None) -> None:
    """Store (or replace) the keyring entry ``name`` under the service ``hookadmin``.

    Raises:
        SecretStoreError: the keyring is unusable or refused the write.
    """
    chosen = keyring_backend(backend)
    with _translated():
        chosen.set_password(SERVICE_NAME, name, value)


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


def _ensure_unlocked(collection: Collection, prompt: bool) -> None:
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


def is_secret_service(backend: Any) -> bool:
    """True when ``backend`` is keyring's Secret Service backend (Linux)."""
    try:
        from keyring.backends import SecretService
    except ImportError:  # keyring without secretstorage (macOS, Windows)
        return False
    return isinstance(backend, SecretService.Keyring)


def _is_locked_error(err: Exception) -> bool:
    from secretstorage.exceptions import LockedException

    return isinstance(err, LockedException)


def _translate(err: Exception) -> SecretStoreError:
    """A secretstorage or jeepney failure as one sentence (never with a secret)."""
    if _is_locked_error(err):
        return SecretStoreError(LOCKED, cause="locked")
    detail = _one_line(str(err)) or type(err).__name__
    return SecretStoreError(UNAVAILABLE.format(detail=detail), cause="unavailable")


def _is_empty_chain(backend: Any) -> bool:
    backends = getattr(backend, "backends", None)
    return backends is not None and not [b for b in backends if not isinstance(b, fail.Keyring)]


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Turn keyring's exceptions into :class:`SecretStoreError` (never with a secret)."""
    try:
        yield
    except keyring.errors.PasswordDeleteError:
        raise SecretStoreError("No such secret.", cause="missing") from None
    except keyring.errors.KeyringLocked as err:
        raise SecretStoreError(LOCKED, cause="locked") from err
    except keyring.errors.NoKeyringError as err:
        raise SecretStoreError(NO_BACKEND, cause="no_backend") from err
    except Exception as err:
        # (jeepney, secretstorage, ...) mean the keyring is not usable right now.
        detail = _one_line(str(err)) or type(err).__name__
        raise SecretStoreError(UNAVAILABLE.format(detail=detail), cause="unavailable") from err


def _one_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.rstrip(".")[:200]
