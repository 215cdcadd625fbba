"""What every part of the SQLite store shares: the connection and its transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hookadmin.core.store.sqlite import wake
from hookadmin.core.store.sqlite.checkpoints import Checkpointer


class Connected:
    """The base of the SQLite store's parts (hooks, queue, history, settings): one
    autocommit connection, ``_db``, to the file at ``path``. Made by
    :class:`hookadmin.core.store.sqlite.SQLiteStore`."""

    _db: sqlite3.Connection
    path: Path
    _ring_after_commit = False  # new work in the open transaction: wake the engines
    _wake_key_value: str | None = None
    _checkpointer: Checkpointer | None = None  # checkpoints on a thread (else SQLite's)

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
            self._ring_after_commit = False
            if self._db.in_transaction:  # a failed COMMIT (a full disk) may leave it open
                self._db.execute("ROLLBACK")
            raise
        if self._checkpointer is not None:
            self._checkpointer.written()
        if self._ring_after_commit:
            self._ring_after_commit = False
            wake.ring(self.path.parent, self._wake_key())

    def _wake_engines(self) -> None:
        """Inside a transaction that leaves new work (events, deliveries due again):
        wake the data directory's engines once it is committed (see
        :mod:`hookadmin.core.store.sqlite.wake`), not before, so what they look at is
        there."""
        self._ring_after_commit = True

    def _wake_key(self) -> str:
        if self._wake_key_value is None:
            self._wake_key_value = wake.key_of(self.path)
        return self._wake_key_value
