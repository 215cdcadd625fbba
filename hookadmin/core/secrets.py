"""Hook secrets, kept only in the OS keyring through :mod:`keyring`.

Each entry lives under the service name ``hookadmin`` with the user name
``<store id>/hook/<hook id>``, where the store id is a random UUID kept in the
database, so two data directories never see or overwrite each other's secrets.
There is no plaintext fallback: when no usable keyring exists, every operation
raises :class:`~hookadmin.core.errors.SecretStoreError` with one sentence naming the
cause and what to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from hookadmin.core.errors import SecretStoreError

SERVICE_NAME = "hookadmin"

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

    def get_many(self, hook_ids: Sequence[int]) -> dict[int, str]:
        """Hook id → secret for those of ``hook_ids`` that have one."""

    def set(self, hook_id: int, secret: str, *, previous: bool = False,
            options: bool = False) -> None:
        """Store (or replace) the secret (or the replaced one, or the option secrets)."""

    def delete(self, hook_id: int, *, previous: bool = False, options: bool = False) -> None:
        """Remove the secret (or the replaced one, or the option secrets); a missing one
        is not an error."""


class SecretStore:
    """Reads and writes hook secrets in the OS keyring.

    Args:
        store_id: the per-database UUID that namespaces every entry.
        backend: a :class:`keyring.backend.KeyringBackend`; defaults to the one
            :func:`keyring.get_keyring` selects (honouring the user's keyring config).
    """

    def __init__(self, store_id: str, backend: Any | None = None, *,
                 parent_ids: Sequence[str] = ()) -> None:
        self._store_id = store_id
        self._backend = backend
        self._parent_ids = tuple(parent_ids)

    def _username(self, hook_id: int, *, previous: bool = False, options: bool = False) -> str:
        return f"{self._store_id}/{entry_suffix(hook_id, previous=previous, options=options)}"

    def _keyring(self) -> Any:
        return keyring_backend(self._backend)

    def check(self) -> None:
        """Make sure the keyring can be used now, without reading any secret.

        Raises:
            SecretStoreError: no backend, locked, or not answering.
        """
        self.get_optional(0)

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
        backend = self._keyring()
        with _translated():
            value = backend.get_password(SERVICE_NAME, self._username(
                hook_id, previous=previous, options=options))
            # A copied database reads the secrets of the one it was copied from until
            # it writes its own; it never writes or deletes theirs.
            for parent in self._parent_ids:
                if isinstance(value, str):
                    break
                name = f"{parent}/{entry_suffix(hook_id, previous=previous, options=options)}"
                value = backend.get_password(SERVICE_NAME, name)
        return value if isinstance(value, str) else None

    def get_many(self, hook_ids: Sequence[int]) -> dict[int, str]:
        """The secrets of many hooks at once: hook id → secret, hooks without one left
        out.

        With the Secret Service backend (Linux) one D-Bus connection and one encrypted
        session serve every read, a few milliseconds for a hundred hooks, where each
        :meth:`get` opens its own (about 30 ms: a key exchange). Other backends, and
        secrets inherited from the database this one was copied from, are read one by
        one.

        Raises:
            SecretStoreError: the keyring is unusable (no backend, locked, not answering).
        """
        backend = self._keyring()
        found: dict[int, str] = {}
        collection = _secret_service_collection(backend)
        if collection is not None:
            names = {self._username(h): h for h in hook_ids}
            with _translated(), contextlib.closing(collection.connection):
                queries = {name: backend._query(SERVICE_NAME, name) for name in names}
                found = {names[n]: v for n, v in _read_all(collection, queries).items()}
        for hook_id in hook_ids:
            if hook_id not in found and (collection is None or self._parent_ids):
                value = self.get_optional(hook_id)
                if value is not None:
                    found[hook_id] = value
        return found

    def set(self, hook_id: int, secret: str, *, previous: bool = False,
            options: bool = False) -> None:
        """Store (or replace) the secret of ``hook_id`` (or the replaced one, or its
        option secrets as JSON).

        Raises:
            SecretStoreError: the keyring is unusable or refused the write.
        """
        backend = self._keyring()
        with _translated():
            backend.set_password(SERVICE_NAME, self._username(hook_id, previous=previous,
                                                              options=options), secret)

    def delete(self, hook_id: int, *, previous: bool = False, options: bool = False) -> None:
        """Remove the secret of ``hook_id`` (or the replaced one, or its option secrets);
        a missing entry is not an error.

        Raises:
            SecretStoreError: the keyring is unusable.
        """
        backend = self._keyring()
        try:
            with _translated():
                backend.delete_password(SERVICE_NAME, self._username(
                    hook_id, previous=previous, options=options))
        except SecretStoreError as err:
            if err.cause != "missing":
                raise


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


def _secret_service_collection(backend: Any) -> Any | None:
    """The unlocked collection keyring's Secret Service backend uses (its own
    ``get_preferred_collection``, which unlocks it or fails), or None when ``backend``
    is another backend.

    Raises:
        keyring.errors.KeyringLocked: the collection is locked and was not unlocked.
        keyring.errors.InitError: the Secret Service cannot be reached.
    """
    try:
        from keyring.backends import SecretService
    except ImportError:  # keyring without secretstorage (macOS, Windows)
        return None
    if not isinstance(backend, SecretService.Keyring):
        return None
    with _translated():
        return backend.get_preferred_collection()  # type: ignore[no-untyped-call]


def _read_all(collection: Any, queries: dict[str, dict[str, str]]) -> dict[str, str]:
    """Read many items of a Secret Service collection over its one connection (Secret
    Service API 0.2): one ``SearchItems`` for everything of ours (the attributes all
    ``queries`` share), each found item's ``Attributes`` to tell which is which, and a
    single ``GetSecrets`` over one encrypted session. Returns name → secret for the
    names (keys of ``queries``) found. Searching per name would cost the daemon a pass
    over every item for each name.

    Built on secretstorage's D-Bus helpers (the library keyring's backend uses); if
    those ever change shape, falls back to reading item by item with secretstorage's
    public API (four round trips per item).
    """
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from secretstorage.collection import COLLECTION_IFACE
        from secretstorage.defines import SS_PATH
        from secretstorage.item import ITEM_IFACE
        from secretstorage.util import SERVICE_IFACE, DBusAddressWrapper, open_session
    except ImportError:
        return _read_one_by_one(collection, queries)
    if not queries:
        return {}
    names = {frozenset(q.items()): name for name, q in queries.items()}
    used = {k for q in queries.values() for k in q}
    shared = dict(frozenset.intersection(*names))
    conn = collection.connection
    searcher = DBusAddressWrapper(collection.collection_path, COLLECTION_IFACE, conn)
    (found,) = searcher.call("SearchItems", "a{ss}", shared)
    paths: dict[str, str] = {}
    taken: set[str] = set()
    for path in found:
        attributes = dict(DBusAddressWrapper(path, ITEM_IFACE, conn).get_property("Attributes"))
        name = names.get(frozenset((k, v) for k, v in attributes.items() if k in used))
        if name is not None and name not in taken:  # the first of duplicates, as keyring
            paths[path] = name
            taken.add(name)
    if not paths:
        return {}
    session = open_session(conn)
    service = DBusAddressWrapper(SS_PATH, SERVICE_IFACE, conn)
    (secrets,) = service.call("GetSecrets", "aoo", list(paths), session.object_path)
    out: dict[str, str] = {}
    for path, (_session, iv, value, _content_type) in secrets.items():
        data = bytes(value)
        if session.encrypted:  # dh-ietf1024-sha256-aes128-cbc-pkcs7, as the spec names it
            assert session.aes_key is not None
            decryptor = Cipher(algorithms.AES(session.aes_key), modes.CBC(bytes(iv))).decryptor()
            padded = decryptor.update(data) + decryptor.finalize()
            data = padded[:-padded[-1]]
        out[paths[path]] = data.decode("utf-8")
    return out


def _read_one_by_one(collection: Any, queries: dict[str, dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, query in queries.items():
        item = next(iter(collection.search_items(query)), None)
        if item is not None:
            out[name] = item.get_secret().decode("utf-8")
            collection.session = collection.session or item.session  # one session for all
    return out


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
