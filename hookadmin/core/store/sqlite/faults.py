"""SQLite faults that are the machine's, not hookadmin's: a full disk, a database
another process keeps locked, a disk that fails. The SQLite store's connection
(:class:`FaultTranslatingConnection`) turns each into a
:class:`~hookadmin.core.errors.StoreFault` with one sentence saying what happened and
what to do, so no caller outside the store ever sees a :mod:`sqlite3` error.

The busy timeout (how long a write waits for another process's write transaction to
end before it gives up) is :data:`DEFAULT_BUSY_TIMEOUT` seconds; the environment
variable ``HOOKADMIN_BUSY_TIMEOUT`` (seconds) changes it, e.g. for a slow backup or
for tests that hold a lock on purpose.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from hookadmin.core.errors import StoreBusyError, StoreFault, StoreFullError

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

BUSY_TIMEOUT_ENV = "HOOKADMIN_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT = 30.0

# What sqlite3 accepts as a statement's parameters (a sequence, or names to values).
Parameters: TypeAlias = "SupportsLenAndGetItem[object] | Mapping[str, object]"


def busy_timeout() -> float:
    """Seconds a write waits for another process's lock: ``$HOOKADMIN_BUSY_TIMEOUT``
    when it is a number of seconds (0 or more), else :data:`DEFAULT_BUSY_TIMEOUT`."""
    try:
        value = float(os.environ.get(BUSY_TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT
    return value if 0.0 <= value < float("inf") else DEFAULT_BUSY_TIMEOUT


def store_fault(err: sqlite3.Error, *, unsaved: str = "nothing was saved") -> StoreFault:
    """The one-sentence :class:`StoreFault` for a failed SQLite statement.

    Args:
        err: what :mod:`sqlite3` raised.
        unsaved: what the failure left undone, for the sentence ("nothing was queued").

    Returns:
        A :class:`StoreFullError` (``SQLITE_FULL``), a :class:`StoreBusyError`
        (``SQLITE_BUSY``, ``SQLITE_LOCKED``), else a plain :class:`StoreFault`.
    """
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(err)
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StoreFullError("The disk holding hookadmin's database is full",
                              "free some space and try again", unsaved=unsaved)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StoreBusyError(
            "hookadmin's database was locked by another process (a sqlite3 shell or a "
            f"backup holding a write transaction) for more than {busy_timeout():g} s",
            "try again once that process has finished", unsaved=unsaved)
    return StoreFault(f"hookadmin's database failed ({text})",
                      "check the disk and the data directory", unsaved=unsaved)


class FaultTranslatingConnection(sqlite3.Connection):
    """A :class:`sqlite3.Connection` (pass it as ``factory`` to :func:`sqlite3.connect`)
    whose statements raise :func:`store_fault`'s :class:`StoreFault` instead of a
    :class:`sqlite3.DatabaseError` (a misuse of the connection, a
    :class:`sqlite3.ProgrammingError`, stays as it is: it is a bug). Rows fetched
    after the statement ran are read as usual.
    """

    def execute(self, sql: str, parameters: Parameters = (), /) -> sqlite3.Cursor:
        """:meth:`sqlite3.Connection.execute`.

        Raises:
            StoreFault: the database failed the statement (see :func:`store_fault`).
        """
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as err:
            raise store_fault(err) from err

    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> sqlite3.Cursor:
        """:meth:`sqlite3.Connection.executemany`.

        Raises:
            StoreFault: the database failed a statement (see :func:`store_fault`).
        """
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as err:
            raise store_fault(err) from err
