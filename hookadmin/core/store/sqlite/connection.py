"""What every part of the SQLite store shares: the connection and its transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Connected:
    """The base of the SQLite store's parts (hooks, queue, history, settings): one
    autocommit connection, ``_db``, to the file at ``path``. Made by
    :class:`hookadmin.core.store.sqlite.SQLiteStore`."""

    _db: sqlite3.Connection
    path: Path

    @contextmanager
    def transaction(self, *, batched: bool = False) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception (a failed
        ``COMMIT`` included, such as on a full disk); inside another transaction it
        joins that one. ``batched`` changes nothing here (see the repository protocol).

        Raises:
            StoreBusyError: another process held the write lock for longer than the
                busy timeout (see :mod:`hookadmin.core.store.sqlite.faults`).
            StoreFullError, StoreFault: the disk is full, or failed; nothing was
                written.
        """
        if self._db.in_transaction:
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # a failed COMMIT (a full disk) may leave it open
                self._db.execute("ROLLBACK")
            raise
