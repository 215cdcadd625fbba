"""The SQLite change feed: ``PRAGMA data_version`` on a read-only connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hookadmin.core.store.sqlite.schema import DB_FILENAME


class SQLiteChangeFeed:
    """Tells whether anyone committed to a data directory's database since the last
    look (see :class:`hookadmin.core.store.ports.ChangeFeed`). A read-only connection of
    its own: SQLite's ``data_version`` changes when any other connection, in any
    process, commits. One look costs a few microseconds.

    Open it with :meth:`open`.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._seen: int | None = None

    @classmethod
    def open(cls, home: Path) -> SQLiteChangeFeed | None:
        """The feed of ``home``'s database, or None when it cannot be opened read-only
        (then the caller has to look at the database every time)."""
        try:
            db = sqlite3.connect(f"file:{home / DB_FILENAME}?mode=ro", uri=True,
                                 isolation_level=None)
        except sqlite3.Error:
            return None
        return cls(db)

    def changed(self) -> bool:
        """True when someone committed since the last call (and at the first call), or
        when the database cannot be read (it may have changed)."""
        try:
            version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            self._seen = None
            return True
        if version == self._seen:
            return False
        self._seen = version
        return True

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
