"""The OS keyring as hookadmin reaches it: which backend, and its failures as sentences.

Every entry hookadmin keeps in the keyring lives under the service name
:data:`SERVICE_NAME`. :func:`keyring_backend` picks the backend :mod:`keyring` selects
(honouring the user's keyring configuration) and refuses one that cannot store anything;
:func:`translated` turns keyring's exceptions into
:class:`~hookadmin.core.errors.SecretStoreError` with one sentence (``LOCKED``,
``NO_BACKEND``, ``UNAVAILABLE``) and a ``cause``, never with a secret.
:func:`read_entry` and :func:`write_entry` serve entries other than hook secrets (a
team key); hook secrets go through :class:`hookadmin.core.secrets.SecretStore`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from hookadmin.core.errors import SecretStoreError

SERVICE_NAME = "hookadmin"
# What keyring's Secret Service backend writes as the ``application`` attribute.
APPLICATION = "Python keyring library"

NO_BACKEND = (
    "No usable OS keyring was found (hookadmin keeps secrets only there: on Linux a Secret "
    "Service such as gnome-keyring or KWallet in your D-Bus session); start one and try again."
)
LOCKED = ("The OS keyring is locked; unlock it (for example by logging in to your desktop "
          "session or opening your keyring manager) and try again.")
UNAVAILABLE = ("The OS keyring did not answer ({detail}); check that your keyring service is "
               "running and try again.")


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
    with translated():
        value = chosen.get_password(SERVICE_NAME, name)
    return value if isinstance(value, str) else None


def write_entry(name: str, value: str, backend: Any | None = None) -> None:
    """Store (or replace) the keyring entry ``name`` under the service ``hookadmin``.

    Raises:
        SecretStoreError: the keyring is unusable or refused the write.
    """
    chosen = keyring_backend(backend)
    with translated():
        chosen.set_password(SERVICE_NAME, name, value)


def _is_empty_chain(backend: Any) -> bool:
    backends = getattr(backend, "backends", None)
    return backends is not None and not [b for b in backends if not isinstance(b, fail.Keyring)]


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Turn keyring's exceptions raised inside the block into
    :class:`SecretStoreError` (never with a secret): ``cause`` is ``"missing"`` (a
    deletion of no entry), ``"locked"``, ``"no_backend"`` or ``"unavailable"``."""
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
        raise unavailable(err) from err


def unavailable(err: Exception) -> SecretStoreError:
    """The keyring did not answer: ``UNAVAILABLE`` with the first line of ``err`` (at
    most 200 characters; its type's name when it has no text), ``cause ==
    "unavailable"``."""
    detail = one_line(str(err)) or type(err).__name__
    return SecretStoreError(UNAVAILABLE.format(detail=detail), cause="unavailable")


def one_line(text: str) -> str:
    """The first line of ``text``, without a trailing full stop, at most 200
    characters ("" for blank text)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.rstrip(".")[:200]
