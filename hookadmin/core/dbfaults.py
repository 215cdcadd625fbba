"""SQLite faults that are the machine's, not hookadmin's: a full disk and a database
another process keeps locked. Each becomes a :class:`~hookadmin.core.errors.StoreError`
with one sentence saying what happened and what to do, instead of a traceback.

The busy timeout (how long a write waits for another process's write transaction to
end before it gives up) is :data:`DEFAULT_BUSY_TIMEOUT` seconds; the environment
variable ``HOOKADMIN_BUSY_TIMEOUT`` (seconds) changes it, e.g. for a slow backup or
for tests that hold a lock on purpose.
"""

from __future__ import annotations

import os
import sqlite3

from hookadmin.core.errors import StoreError

BUSY_TIMEOUT_ENV = "HOOKADMIN_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT = 30.0


class StoreFullError(StoreError):
    """The disk (or file system) holding the database is full; nothing was written."""


class StoreBusyError(StoreError):
    """Another process held a write lock on the database for longer than the busy
    timeout; nothing was written."""


def busy_timeout() -> float:
    """Seconds a write waits for another process's lock: ``$HOOKADMIN_BUSY_TIMEOUT``
    when it is a number of seconds (0 or more), else :data:`DEFAULT_BUSY_TIMEOUT`."""
    try:
        value = float(os.environ.get(BUSY_TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT
    return value if 0.0 <= value < float("inf") else DEFAULT_BUSY_TIMEOUT


def store_error(err: sqlite3.Error, *, unsaved: str = "nothing was saved") -> StoreError:
    """The one-sentence :class:`StoreError` for a failed SQLite statement.

    Args:
        err: what :mod:`sqlite3` raised.
        unsaved: what the failure left undone, for the sentence ("nothing was queued").

    Returns:
        A :class:`StoreFullError` (``SQLITE_FULL``), a :class:`StoreBusyError`
        (``SQLITE_BUSY``, ``SQLITE_LOCKED``), else a plain :class:`StoreError`.
    """
    code = getattr(err, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(err)
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StoreFullError(f"The disk holding hookadmin's database is full, so {unsaved}; "
                              "free some space and try again.")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StoreBusyError(
            f"hookadmin's database was locked by another process (a sqlite3 shell or a "
            f"backup holding a write transaction) for more than {busy_timeout():g} s, so "
            f"{unsaved}; try again once that process has finished.")
    return StoreError(f"hookadmin's database failed ({text}), so {unsaved}; check the disk "
                      "and the data directory.")
