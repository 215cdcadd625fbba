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
from typing import Any

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

    def _username(self, hook_id: int, *, previous: bool = False) -> str:
        name = f"{self._store_id}/hook/{hook_id}"
        return f"{name}/previous" if previous else name

    def _keyring(self) -> Any:
        backend = self._backend if self._backend is not None else keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or _is_empty_chain(backend):
            raise SecretStoreError(NO_BACKEND, cause="no_backend")
        return backend

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

    def get_optional(self, hook_id: int, *, previous: bool = False) -> str | None:
        """The secret of ``hook_id`` (or the one it replaced, with ``previous``), or
        ``None`` when there is none.

        Raises:
            SecretStoreError: the keyring is unusable.
        """
        backend = self._keyring()
        with _translated():
            value = backend.get_password(SERVICE_NAME, self._username(hook_id,
                                                                      previous=previous))
            # A copied database reads the secrets of the one it was copied from until
            # it writes its own; it never writes or deletes theirs.
            for parent in self._parent_ids:
                if isinstance(value, str):
                    break
                name = f"{parent}/hook/{hook_id}" + ("/previous" if previous else "")
                value = backend.get_password(SERVICE_NAME, name)
        return value if isinstance(value, str) else None

    def set(self, hook_id: int, secret: str, *, previous: bool = False) -> None:
        """Store (or replace) the secret of ``hook_id`` (or the replaced one).

        Raises:
            SecretStoreError: the keyring is unusable or refused the write.
        """
        backend = self._keyring()
        with _translated():
            backend.set_password(SERVICE_NAME, self._username(hook_id, previous=previous),
                                 secret)

    def delete(self, hook_id: int, *, previous: bool = False) -> None:
        """Remove the secret of ``hook_id`` (or the replaced one); a missing entry is not
        an error.

        Raises:
            SecretStoreError: the keyring is unusable.
        """
        backend = self._keyring()
        try:
            with _translated():
                backend.delete_password(SERVICE_NAME, self._username(hook_id,
                                                                     previous=previous))
        except SecretStoreError as err:
            if err.cause != "missing":
                raise


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
