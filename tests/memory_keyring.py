"""An in-process keyring for the unit tests of parts other than secrets.

:class:`MemoryKeyring` is a real :class:`keyring.backend.KeyringBackend`: it stores,
returns, replaces and deletes passwords, in a dictionary of this process. Given to
:class:`hookadmin.core.secrets.SecretStore` as its backend, it lets a test use
:class:`hookadmin.core.service.HookService` without a D-Bus round trip per secret.

Tests about secrets, and every test that starts another process (the CLI, a worker, the
window's engine) keep the real Secret Service: other processes cannot see this store.
"""

from __future__ import annotations

import threading
from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from hookadmin.core.secrets import SecretStore
from hookadmin.core.service import HookService
from hookadmin.core.store import Store


class MemoryKeyring(KeyringBackend):
    """Passwords by (service, username), kept in memory; safe to use from any thread.

    It is never chosen by :func:`keyring.get_keyring` (its priority raises), only used
    where it is passed in explicitly.
    """

    @properties.classproperty
    def priority(cls) -> float:
        """Not viable: raising here keeps :func:`keyring.get_keyring` from choosing it."""
        raise RuntimeError("MemoryKeyring is only used where a test passes it in")

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The password stored for (service, username), or None."""
        with self._lock:
            return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store or replace the password for (service, username)."""
        with self._lock:
            self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Remove the password for (service, username).

        Raises:
            PasswordDeleteError: there is none.
        """
        with self._lock:
            if self._entries.pop((service, username), None) is None:
                raise PasswordDeleteError("No such password.")

    def usernames(self, service: str) -> list[str]:
        """Every username with a password under ``service``, sorted."""
        with self._lock:
            return sorted(user for svc, user in self._entries if svc == service)


def memory_service(home: Path, backend: MemoryKeyring | None = None) -> HookService:
    """``HookService(home)`` whose secrets live in ``backend`` (a new
    :class:`MemoryKeyring` by default), namespaced by the database's store id like the
    OS keyring's entries. The caller closes it.

    Raises:
        StoreError: the database cannot be opened.
    """
    with Store.in_home(home) as store:
        store_id, parents = store.store_id, store.parent_store_ids
    secrets = SecretStore(store_id, backend or MemoryKeyring(), parent_ids=parents)
    return HookService(home, secrets=secrets)
