"""The one exception hierarchy of hookadmin.

Every message is one concrete sentence a user can act on: what is wrong and what to
do. Messages never contain a secret. The CLI maps :class:`InputError` to exit
status 2 and every other :class:`HookadminError` to exit status 1.
"""

from __future__ import annotations


class HookadminError(Exception):
    """Base class of every error hookadmin raises on purpose."""


class InputError(HookadminError):
    """The user's input is invalid (a bad URL, an unknown event type, bad JSON...).

    Attributes:
        field: the name of the offending field or option, or ``None``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(InputError):
    """A hook or delivery id that does not exist was named."""


class SecretStoreError(HookadminError):
    """The OS keyring cannot be used (no backend, locked, no D-Bus session...).

    Attributes:
        cause: a short machine-readable cause: ``no_backend``, ``locked``,
            ``unavailable`` or ``failed``.
    """

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class StoreError(HookadminError):
    """The local database cannot be opened or is from a newer hookadmin."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached or refuses this connection (a wrong URL,
    a refused connection, a bad password, a server that is down). Usually temporary or
    a matter of configuration, not of the data; the message never holds a password."""
