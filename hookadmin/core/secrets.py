"""Hook secrets, kept only in the OS keyring.

Each entry lives under the service name ``hookadmin`` with the user name
``<store id>/hook/<hook id>``, where the store id is a random UUID kept in the
database, so two data directories never see or overwrite each other's secrets.
There is no plaintext fallback: when no usable keyring exists, every operation
raises :class:`~hookadmin.core.errors.SecretStoreError` with one sentence naming the
cause and what to do.

On Linux, when :mod:`keyring` selects its Secret Service backend, hookadmin talks to
the Secret Service over one D-Bus connection per :class:`SecretStore`
(:mod:`hookadmin.core.secret_service`). Other backends (macOS Keychain, Windows
Credential Locker, a keyring configured by the user) go through keyring's public API
(:mod:`hookadmin.core.keyring_access`, which also words the keyring's failures).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from hookadmin.core import secret_service
from hookadmin.core.errors import SecretStoreError
from hookadmin.core.keyring_access import (
    LOCKED,
    NO_BACKEND,
    SERVICE_NAME,
    keyring_backend,
    translated,
)
from hookadmin.core.secret_service import SecretServiceLink, is_secret_service

__all__ = ["LOCKED", "MISSING", "NO_BACKEND", "SERVICE_NAME", "HookSecrets", "SecretStore",
           "entry_suffix", "present_or_missing"]

# get_many looks each name up on its own up to this many hooks; beyond, it lists
# every hookadmin entry once (a search costs the daemon a pass over its items).
_LOOKUP_ONE_BY_ONE = 16

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
        self._link = SecretServiceLink(prompt=prompt)
        self._closer = weakref.finalize(self, self._link.drop)

    def close(self) -> None:
        """Close the D-Bus connection, if one is open (the next call opens a new one)."""
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
            self._link.run(backend,
                           lambda c: secret_service.ensure_unlocked(c, self._prompt))
        else:
            with translated():
                backend.get_password(SERVICE_NAME, self._username(0))

    def get(self, hook_id: int) -> str:
        """The secret of ``hook_id``.

        Raises:
            SecretStoreError: the keyring is unusable (``cause`` says why) or holds no
                secret for this hook (``cause == "missing"``).
        """
        return present_or_missing(self.get_optional(hook_id), MISSING, hook_id)

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
            return self._link.run(backend, lambda c: secret_service.read_first(c, names))
        with translated():
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
            return self._read_each(hook_ids, {}, on_found)
        wanted = {self._username(h): h for h in hook_ids}
        found = self._link.run(backend,
                               lambda c: secret_service.read_wanted(c, wanted, on_found))
        if self._parent_ids:  # (a generator: each is looked for in found when it comes)
            self._read_each((h for h in hook_ids if h not in found), found, on_found)
        return found

    def _read_each(self, hook_ids: Iterable[int], found: dict[int, str],
                   on_found: Callable[[int, str], None] | None) -> dict[int, str]:
        """Read the secrets of ``hook_ids`` one by one (:meth:`get_optional`) into
        ``found``, calling ``on_found`` for each one found; returns ``found``."""
        for hook_id in hook_ids:
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
            self._link.run(backend, lambda c: secret_service.write(c, name, secret))
            return
        with translated():
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
            self._link.run(backend, lambda c: secret_service.remove(c, name))
            return
        try:
            with translated():
                backend.delete_password(SERVICE_NAME, name)
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


def present_or_missing(secret: str | None, missing: str, hook_id: int) -> str:
    """``secret``, read for ``hook_id`` by a store's ``get_optional``; when there is
    none, the store's sentence for a missing secret (``missing``, with ``{hook_id}``).

    Raises:
        SecretStoreError: ``secret`` is None (``cause == "missing"``).
    """
    if secret is None:
        raise SecretStoreError(missing.format(hook_id=hook_id), cause="missing")
    return secret
