"""The one exception hierarchy of hookadmin.

Every message is one concrete sentence a user can act on: what is wrong and what to
do. Messages never contain a secret. The CLI maps :class:`InputError` to exit
status 2 and every other :class:`HookadminError` to exit status 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self


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
            ``unavailable``, ``failed``, ``missing``, or for the team key
            ``team_key_invalid``, ``team_key_missing`` and ``team_key_mismatch``.
    """

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class TeamKeyError(SecretStoreError):
    """The team key (team mode: secrets encrypted in the shared database) cannot be
    used: its file is unsafe, malformed or for another database, or its keyring entry
    is malformed (``cause == "team_key_invalid"``); or one of the subclasses below."""


class TeamKeyMissing(TeamKeyError):
    """This machine has no team key for the team database (``cause ==
    "team_key_missing"``): it can list hooks and history but cannot sign, reveal or
    ping."""

    def __init__(self, message: str) -> None:
        super().__init__(message, cause="team_key_missing")


class TeamKeyMismatch(TeamKeyError):
    """The team key this machine has does not decrypt the database's secrets (``cause
    == "team_key_mismatch"``): it is another team's key, or the data was altered."""

    def __init__(self, message: str) -> None:
        super().__init__(message, cause="team_key_mismatch")


class StoreError(HookadminError):
    """The local database cannot be opened or is from a newer hookadmin."""


class DataDirectoryError(StoreError):
    """The data directory cannot be used: it is not a folder, cannot be created or
    written, or its disk is full. ``str()`` is the command line's sentence (ending
    "choose another --home"); the window says the fix for how it was started
    (:func:`hookadmin.core.paths.window_sentence`).

    Attributes:
        folder: the data directory.
        reason: why it cannot be used, as the OS says it ("Not a directory").
    """

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(self.sentence(folder, reason, "choose another --home"))
        self.folder = folder
        self.reason = reason

    @staticmethod
    def sentence(folder: Path, reason: str, fix: str) -> str:
        """The sentence ``Cannot use FOLDER as the data directory (REASON); FIX.``"""
        return f"Cannot use {folder} as the data directory ({reason}); {fix}."


class StoreUnavailable(StoreError):
    """The database server cannot be reached or refuses this connection (a wrong URL,
    a refused connection, a bad password, a server that is down). Usually temporary or
    a matter of configuration, not of the data; the message never holds a password."""


class StoreFault(StoreError):
    """A fault of the machine under the database, not of hookadmin or its data (a full
    disk, a lock another process held too long, a disk I/O error): the statement
    failed and its transaction was rolled back, so nothing of it was written.

    The message is one sentence, ``"{what}, so {unsaved}; {advice}."``; a caller that
    knows better what was left undone says it with :meth:`saying`.

    Attributes:
        what: the fault ("The disk holding hookadmin's database is full").
        unsaved: what it left undone ("nothing was saved").
        advice: what to do ("free some space and try again").
    """

    def __init__(self, what: str, advice: str, *, unsaved: str = "nothing was saved") -> None:
        super().__init__(f"{what}, so {unsaved}; {advice}.")
        self.what = what
        self.advice = advice
        self.unsaved = unsaved

    def saying(self, unsaved: str) -> Self:
        """The same fault, of the same class, naming ``unsaved`` as what it left undone
        (``"nothing was queued"``)."""
        return type(self)(self.what, self.advice, unsaved=unsaved)


class StoreFullError(StoreFault):
    """The disk (or file system) holding the database is full; nothing was written."""


class StoreBusyError(StoreFault):
    """Another process held a write lock on the database for longer than the busy
    timeout; nothing was written, and trying again later may succeed."""
