"""The SQLite change feed: ``PRAGMA data_version`` on a read-only connection, and a
doorbell (:mod:`hookadmin.core.store.sqlite.wake`) that publishers ring after their
commit."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from hookadmin.core.store import wakeups
from hookadmin.core.store.sqlite.schema import DB_FILENAME
from hookadmin.core.store.sqlite.wake import WakeSocket, key_of


class SQLiteChangeFeed:
    """Tells whether anyone committed to a data directory's database since the last
    look (see :class:`hookadmin.core.store.ports.ChangeFeed`). A read-only connection of
    its own: SQLite's ``data_version`` changes when any other connection, in any
    process, commits. One look costs a few microseconds.

    Once :meth:`watch` is called, a publisher's commit of new events (or of deliveries
    made due again) wakes the watcher at once: directly from a publisher in this
    process, through the feed's datagram socket from one in another process.

    Open it with :meth:`open`.
    """

    def __init__(self, db: sqlite3.Connection, db_path: Path) -> None:
        self._db = db
        self._seen: int | None = None
        self._home = db_path.parent
        self._key = key_of(db_path)
        self._bell: WakeSocket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unlisten: Callable[[], None] | None = None
        self._signalled = False

    @classmethod
    def open(cls, home: Path) -> SQLiteChangeFeed | None:
        """The feed of ``home``'s database, or None when it cannot be opened read-only
        (then the caller has to look at the database every time)."""
        path = home / DB_FILENAME
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        except sqlite3.Error:
            return None
        return cls(db, path)

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

    def watch(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        """Call ``wake`` on ``loop`` (whose thread calls this) whenever a publisher
        rings, until :meth:`close`. Best effort: without a socket (see
        :meth:`WakeSocket.open`) only publishers in this process wake it."""
        if self._loop is not None:
            return
        self._loop = loop
        self._bell = WakeSocket.open(self._home)
        if self._bell is not None:
            loop.add_reader(self._bell.fileno(), self._rung, wake)

        def from_this_process() -> None:  # on the publisher's thread
            self._signalled = True
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake)

        self._unlisten = wakeups.listen(self._key, from_this_process)

    def _rung(self, wake: Callable[[], None]) -> None:
        if self._bell is not None and self._bell.drain():
            self._signalled = True
            wake()

    def signalled(self) -> bool:
        """True when a publisher rang since the last call."""
        signalled, self._signalled = self._signalled, False
        return signalled

    def close(self) -> None:
        """Stop watching, remove the socket and close the connection (on the watching
        loop's thread)."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        if self._bell is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._bell.fileno())
            self._bell.close()
            self._bell = None
        self._db.close()
